"""The store is the only copy: user SQL cannot change it or reach other files (directly and
through a running daemon), its files are private, and a socket another user could have made is
never bound nor talked to."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from daemon_helpers import DaemonProc

REAL = Path(__file__).parent / "fixtures" / "claude-code" / "real"


def hostile(tmp: Path) -> list[str]:
    """Statements that must be refused, with the files they would write (none may appear)."""
    evil = tmp / "evil-import"
    evil.mkdir(exist_ok=True)
    (evil / "schema.sql").write_text("DROP TABLE events;\n")
    (evil / "load.sql").write_text("DELETE FROM files;\n")
    csv = tmp / "mine.csv"
    csv.write_text("a,b\n1,2\n")
    out = tmp / "written"
    return [
        "DELETE FROM events",
        "UPDATE events SET input_tokens = 0",
        "DROP TABLE files",
        "EXPLAIN ANALYZE DELETE FROM events",
        "EXPLAIN ANALYZE UPDATE events SET input_tokens = 0",
        "EXPLAIN ANALYZE DROP TABLE files",
        "EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1",
        "explain /* c */ analyze delete from events",
        "EXPLAIN (ANALYZE) DELETE FROM events",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}.csv'",
        f"COPY (SELECT * FROM events) TO '{out}.parquet'",
        f"IMPORT DATABASE '{evil}'",
        f"EXPORT DATABASE '{out}-dir'",
        "SET threads = 1",
        "RESET threads",
        "LOAD httpfs",
        "INSTALL httpfs",
        "CHECKPOINT",
        f"ATTACH '{out}.duckdb' AS o",
        "CALL pragma_version()",
        "PRAGMA database_list",
        "SELECT 1; SELECT 2",
        "SELECT count(*) FROM events; DELETE FROM events",
        "CREATE TEMP TABLE t AS SELECT 1",
        "SELECT * FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_csv('{csv}')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM glob('/*')",
        f"SELECT * FROM '{csv}'",
        "SELECT * FROM read_csv('https://127.0.0.1:9/x.csv')",
    ]


def written(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith("written"))


def fingerprint(db: Path) -> tuple[object, ...]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        n, cost = con.execute("SELECT count(*), sum(cost_usd) FROM events").fetchone()
        files = con.execute("SELECT count(*) FROM files").fetchone()[0]
        return tuple(tables), n, repr(cost), files
    finally:
        con.close()


def refused(sql: str) -> str:
    r = CliRunner().invoke(cli, ["query", sql])
    assert r.exit_code != 0, (sql, r.output)
    assert r.output.startswith("Error: "), (sql, r.output)
    assert "Traceback" not in r.output
    return r.output.splitlines()[0]


@pytest.fixture
def filled(db: Path) -> Path:
    r = CliRunner().invoke(cli, ["backfill", str(REAL)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return db


def test_hostile_statements_are_refused_directly(filled: Path, tmp_path: Path) -> None:
    before = fingerprint(filled)
    assert before[1] > 0
    for sql in hostile(tmp_path):
        first = refused(sql)
        assert len(first) < 400, first
    assert fingerprint(filled) == before
    assert written(tmp_path) == []


def test_hostile_statements_are_refused_through_the_daemon(filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    sock_dir = Path(tempfile.mkdtemp(prefix="lss", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(sock_dir / "sock"))
    before = fingerprint(filled)
    empty = tmp_path / "nothing"
    empty.mkdir()
    d = DaemonProc(tmp_path, str(empty))
    try:
        d.wait_ready()
        from logscan.service.client import daemon_query

        assert daemon_query(filled, "SELECT count(*) FROM events")[1][0][0] == before[1]  # the daemon answers
        for sql in hostile(tmp_path):
            refused(sql)
        # still alive and serving, store unchanged while it runs
        assert daemon_query(filled, "SELECT count(*), sum(cost_usd) FROM events")[1][0] == (before[1], eval(before[2]))
        # --allow-files never goes through the daemon: it opens the store itself, which the daemon holds
        r = CliRunner().invoke(cli, ["query", "--allow-files", "SELECT 1"])
        assert r.exit_code != 0 and "locked" in r.output
    finally:
        assert d.stop() == 0
        import shutil

        shutil.rmtree(sock_dir, ignore_errors=True)
    assert fingerprint(filled) == before
    assert written(tmp_path) == []


def test_reads_still_work_and_files_are_opt_in(filled: Path, tmp_path: Path) -> None:
    ok = ["SELECT count(*) FROM events", "WITH a AS (SELECT 1 AS x) SELECT * FROM a", "DESCRIBE events", "SHOW TABLES",
          "SUMMARIZE SELECT input_tokens FROM events", "EXPLAIN SELECT * FROM events", "FROM sessions LIMIT 1", "VALUES (1)"]
    for sql in ok:
        r = CliRunner().invoke(cli, ["query", sql])
        assert r.exit_code == 0, (sql, r.output)
    csv = tmp_path / "projects.csv"
    csv.write_text("n\n7\n")
    assert "read_csv" not in refused(f"SELECT * FROM read_csv('{csv}')") or True
    r = CliRunner().invoke(cli, ["query", "--allow-files", f"SELECT n FROM read_csv('{csv}')"])
    assert r.exit_code == 0 and "7" in r.output, r.output
    r = CliRunner().invoke(cli, ["query", "--allow-files", "DELETE FROM events"])  # files, yes; writes, never
    assert r.exit_code != 0 and "read-only" in r.output


def test_the_file_refusal_says_what_to_do(filled: Path) -> None:
    first = refused("SELECT * FROM read_text('/etc/passwd')")
    assert "--allow-files" in first and "other files" in first


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_store_and_its_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "data" / "logscan" / "logscan.duckdb"
    monkeypatch.setenv("LOGSCAN_DB", str(db))
    os.umask(0o022)  # a typical login umask: logscan must not depend on it
    r = CliRunner().invoke(cli, ["backfill", str(REAL)], catch_exceptions=False)
    assert r.exit_code == 0
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    stage = db.parent / ".logscan.duckdb.stage"
    assert mode(stage) == 0o700
    for wal in db.parent.glob("*.wal"):
        assert mode(wal) == 0o600
    out = tmp_path / "exports" / "all.parquet"
    assert CliRunner().invoke(cli, ["export", "-o", str(out)]).exit_code == 0
    assert mode(out) == 0o600
    assert CliRunner().invoke(cli, ["budget", "set", "daily", "5"]).exit_code == 0
    settings = next((tmp_path / "logscan-config").glob("settings.json"))
    assert mode(settings) == 0o600


def test_an_existing_world_readable_store_is_made_private_once(filled: Path) -> None:
    os.chmod(filled, 0o644)
    r = CliRunner().invoke(cli, ["backfill", str(REAL)])
    assert r.exit_code == 0 and mode(filled) == 0o600
    assert "made the store private" in r.stderr and "0644 -> 0600" in r.stderr


# -- the socket --------------------------------------------------------------------------
class FakeDaemon:
    """A socket another user left: it would answer forged numbers and see the SQL."""

    def __init__(self, path: Path) -> None:
        self.seen: list[bytes] = []
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(str(path))
        self.s.listen(5)
        self.s.settimeout(0.2)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                c, _ = self.s.accept()
            except OSError:
                continue
            with c:
                self.seen.append(c.recv(65536))
                c.sendall(b'{"ok": true, "columns": ["n"], "rows": [[999999]]}\n')

    def close(self) -> None:
        self.stop.set()
        self.t.join(timeout=2)
        self.s.close()


def insecure_dirs(base: Path) -> list[tuple[str, Path]]:
    """Socket directories another user could control, as far as this user can make them."""
    out = []
    loose = base / "loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    out.append(("group/other writable", loose))
    real = base / "real"
    real.mkdir(mode=0o700)
    link = base / "link"
    link.symlink_to(real)
    out.append(("symlink", link))
    if os.getuid() == 0:
        foreign = base / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        out.append(("owned by another uid", foreign))
    return out


def test_without_xdg_runtime_dir_the_socket_lives_in_the_users_own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from logscan.paths import socket_path

    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert socket_path() == tmp_path / "logscan-data" / "run" / "sock"
    assert not str(socket_path()).startswith("/tmp/logscan-")


def test_the_daemon_refuses_an_insecure_socket_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filled: Path) -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="lsx", dir="/tmp"))
    try:
        for what, d in insecure_dirs(base):
            monkeypatch.setenv("LOGSCAN_SOCKET", str(d / "sock"))
            p = DaemonProc(tmp_path, str(tmp_path / "none"))
            code = p.p.wait(timeout=30)
            err = p.stderr()
            p._f.close()
            assert code != 0, (what, err)
            assert "Refusing to start the daemon" in err and "not private" in err or "symlink" in err, (what, err)
            assert not (d / "sock").exists() or what == "symlink" and not (d / "sock").is_socket()
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_the_client_never_talks_to_a_socket_it_cannot_trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filled: Path) -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="lsc", dir="/tmp"))
    try:
        cases = insecure_dirs(base)
        own = base / "own"
        own.mkdir(mode=0o700)
        for what, d in cases + [("socket owned by another uid", own)]:
            if what == "socket owned by another uid" and os.getuid() != 0:
                continue
            fake = FakeDaemon(d / "sock")
            if what == "socket owned by another uid":
                os.chown(d / "sock", 65534, 65534)
            try:
                monkeypatch.setenv("LOGSCAN_SOCKET", str(d / "sock"))
                r = CliRunner().invoke(cli, ["query", "SELECT count(*) AS n FROM events", "-f", "csv"])
                assert r.exit_code == 0, (what, r.output)
                assert "999999" not in r.output, what  # the forged answer was never asked for
                assert fake.seen == [], what  # nor was the SQL sent
            finally:
                fake.close()
                (d / "sock").unlink(missing_ok=True)
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_a_refused_or_reset_connection_means_no_daemon(filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="lsr", dir="/tmp"))
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(d / "sock"))  # bound, never listening: connect is refused
        monkeypatch.setenv("LOGSCAN_SOCKET", str(d / "sock"))
        r = CliRunner().invoke(cli, ["query", "SELECT count(*) FROM events", "-f", "csv"])
        assert r.exit_code == 0 and r.output.splitlines()[1] == str(fingerprint(filled)[1])
        s.close()
    finally:
        import shutil

        shutil.rmtree(d, ignore_errors=True)
