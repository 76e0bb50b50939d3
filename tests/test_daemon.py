"""The daemon as a real process: live tailing, crash safety, queries while it ingests, file
lifecycle (rename, truncate, delete), clean shutdown and the socket's guarantees.

Token truths come from the synthetic lines in daemon_helpers.line: line i of a file carries
input_tokens = i and output_tokens = 2i + 1, so a file holding ids 0..n-1 sums to n(n-1)/2 input
and n(n-1) + n output (arithmetic series; see daemon_helpers.truth). Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from daemon_helpers import DaemonProc, line, truth, wait_for, write_lines

from logscan.service.client import NoDaemon, daemon_query, daemon_status, run_query
from logscan.errors import QueryError, ReadOnlyViolation

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A short socket path (sun_path is ~104 bytes) and a Claude config dir inside tmp_path."""
    short = Path(tempfile.mkdtemp(prefix="lsd", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(short / "sock"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    yield tmp_path / "claude" / "projects"
    shutil.rmtree(short, ignore_errors=True)


def totals() -> tuple[int, int, int]:
    _, rows = run_query(Path(os.environ["LOGSCAN_DB"]), "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0) FROM events")
    return tuple(int(x) for x in rows[0])  # type: ignore[return-value]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([sys.executable, "-m", "logscan", *args], capture_output=True, text=True, timeout=60, check=False)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def test_append_is_queryable_within_1s_p95_over_100_appends(env: Path, tmp_path: Path) -> None:
    files = [env / f"p{k}" / f"s{k}.jsonl" for k in range(5)]
    for k, f in enumerate(files):
        write_lines(f, f"pre{k}", range(1))
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        assert totals() == truth(range(1), files=5)
        appended: dict[str, float] = {}
        seen: dict[str, float] = {}
        done = threading.Event()

        def poll() -> None:
            while not done.is_set() or len(seen) < len(appended):
                _, rows = daemon_query(Path(os.environ["LOGSCAN_DB"]), "SELECT message_id FROM events WHERE starts_with(message_id, 'msg_lat')")
                now = time.monotonic()
                for (mid,) in rows:
                    seen.setdefault(mid, now)
                if done.is_set() and time.monotonic() - done_at[0] > 5:
                    return
                time.sleep(0.01)

        done_at = [0.0]
        t = threading.Thread(target=poll)
        t.start()
        for i in range(100):
            k = i % 5
            with open(files[k], "ab") as fh:
                fh.write(line(f"lat{k}", i))
            appended[f"msg_lat{k}_{i}"] = time.monotonic()
            time.sleep(0.03)
        done_at[0] = time.monotonic()
        done.set()
        t.join(timeout=15)
        assert set(seen) == set(appended), f"never visible: {sorted(set(appended) - set(seen))[:5]}"
        lat = sorted(seen[m] - appended[m] for m in appended)
        p95 = lat[94]
        assert p95 < 1.0, f"p95 {p95:.3f} s; p50 {lat[49]:.3f} s"
        # ids 0..99 spread over 5 files: input = sum(0..99) = 4950, output = 2*4950 + 100
        assert totals() == (5 + 100, 0 + 4950, 5 * 1 + 2 * 4950 + 100)
    finally:
        assert d.stop() == 0, d.stderr()


def test_kill9_during_ingestion_then_restart_equals_uninterrupted_run(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = range(800)
    for k in range(12):
        write_lines(env / f"p{k % 4}" / f"s{k}.jsonl", f"k{k}", ids)
    expected = truth(ids, files=12)  # 9,600 events; input 12 * 319,600; output 12 * (639,200 + 800)
    d = DaemonProc(tmp_path, "--batch-events", "400")
    wait_for(lambda: _count_or_zero() > 0, 30, "the first committed batch", every=0.005)
    d.kill9()
    assert d.p.returncode == -9
    # The kill landed mid-ingestion: read the file directly (no daemon now).
    at_kill = totals()
    assert 0 < at_kill[0] < expected[0], f"kill landed at {at_kill}"
    d2 = DaemonProc(tmp_path, "--batch-events", "400")
    try:
        d2.wait_ready()
        wait_for(lambda: totals() == expected, 20, f"totals {expected}")
        _, rows = run_query(Path(os.environ["LOGSCAN_DB"]), "SELECT count(*) - count(DISTINCT event_id), count(*) FILTER (WHERE cost_usd IS NULL) FROM events")
        assert rows[0] == (0, 0)
    finally:
        assert d2.stop() == 0, d2.stderr()
    restarted = _event_set(Path(os.environ["LOGSCAN_DB"]))
    # The uninterrupted run: a one-shot backfill into another database.
    other = tmp_path / "uninterrupted.duckdb"
    cli("--db", str(other), "backfill", str(env), "-q")
    assert _event_set(other) == restarted
    monkeypatch.setenv("LOGSCAN_DB", str(other))
    assert totals() == expected


def _count_or_zero() -> int:
    try:
        _, rows = daemon_query(Path(os.environ["LOGSCAN_DB"]), "SELECT count(*) FROM events")
        return int(rows[0][0])
    except NoDaemon:
        return 0


def _event_set(db: Path) -> list[tuple[object, ...]]:
    _, rows = run_query(db, "SELECT event_id, input_tokens, output_tokens, cost_usd, source_offset FROM events ORDER BY event_id")
    return rows


def test_200_concurrent_queries_while_ingesting_never_hit_a_lock(env: Path, tmp_path: Path) -> None:
    ids = range(1000)
    for k in range(12):
        write_lines(env / "p" / f"s{k}.jsonl", f"c{k}", ids)
    d = DaemonProc(tmp_path, "--batch-events", "500")
    try:
        wait_for(lambda: _socket_up(), 20, "the socket")
        db = Path(os.environ["LOGSCAN_DB"])
        appends = threading.Event()

        def append_more() -> None:  # keep the writer busy for the whole run
            i = 0
            while not appends.is_set():
                write_lines(env / "p" / "live.jsonl", "live", range(i, i + 20))
                i += 20
                time.sleep(0.02)

        writer = threading.Thread(target=append_more)
        writer.start()
        scan_running_at_start = not daemon_status()["initial_scan_done"]

        def one(i: int) -> int:
            _, rows = run_query(db, "SELECT count(*), sum(input_tokens) FROM events WHERE model = ?", ["claude-sonnet-4-5-20250929"])
            return int(rows[0][0])

        with ThreadPoolExecutor(16) as pool:
            counts = list(pool.map(one, range(200)))
        # A few real CLI processes too, at the same time as the writer.
        procs = [subprocess.Popen([sys.executable, "-m", "logscan", "query", "SELECT count(*) FROM events", "-f", "csv"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=60) for p in procs]
        appends.set()
        writer.join(timeout=10)
        assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
        assert len(counts) == 200
        # Commits landed while the queries ran: they saw different counts.
        assert scan_running_at_start or max(counts) > min(counts)
        d.wait_ready()
        _, rows = run_query(db, "SELECT count(*) FROM events WHERE session_id <> 's-live'")
        assert rows[0][0] == 12_000
    finally:
        assert d.stop() == 0, d.stderr()


def _socket_up() -> bool:
    try:
        daemon_status()
        return True
    except NoDaemon:
        return False


def test_rename_truncate_delete_and_late_directories(env: Path, tmp_path: Path) -> None:
    a, b = env / "p" / "a.jsonl", env / "p" / "b.jsonl"
    write_lines(a, "a", range(3))
    write_lines(b, "b", range(2))
    db = Path(os.environ["LOGSCAN_DB"])
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        assert totals() == (5, 0 + 1 + 2 + 0 + 1, 3 * 1 + 2 * 3 + 2 * 1 + 2 * 1)

        # Truncation: a rewritten from scratch with one new line; old events stay.
        with open(a, "wb") as f:
            f.write(line("a", 10))
        wait_for(lambda: totals()[0] == 6, 5, "the line written after truncation")
        _, rows = run_query(db, 'SELECT "offset", size FROM files WHERE path = ?', [str(a)])
        assert rows == [(len(line("a", 10)), len(line("a", 10)))]

        # Replacement by rename (new inode): b's two old lines again plus one new; ids dedupe.
        tmp = env / "p" / "b.tmp"
        write_lines(tmp, "b", range(3), mode="wb")
        old_ino = b.stat().st_ino
        os.replace(tmp, b)
        assert b.stat().st_ino != old_ino
        wait_for(lambda: totals()[0] == 7, 5, "the replaced file's new line")
        _, rows = run_query(db, "SELECT inode FROM files WHERE path = ?", [str(b)])
        assert rows == [(b.stat().st_ino,)]

        # Rename: the old path is gone (missing_since), the new one has the same events.
        a2 = env / "p" / "a-renamed.jsonl"
        os.rename(a, a2)
        wait_for(lambda: _missing(db, a), 5, "missing_since on the renamed-away path")
        wait_for(lambda: _known(db, a2), 5, "the new name")
        assert totals()[0] == 7

        # Deletion: events stay, the files row gets missing_since.
        b.unlink()
        wait_for(lambda: _missing(db, b), 5, "missing_since on the deleted file")
        assert totals() == (7, 0 + 1 + 2 + 10 + 0 + 1 + 2, 3 * 1 + 2 * 3 + 21 + 3 * 1 + 2 * 3)

        # A directory created after start, with a file written right away.
        write_lines(env / "new" / "sub" / "c.jsonl", "c", range(4))
        wait_for(lambda: totals()[0] == 11, 5, "the file in a new directory")
    finally:
        assert d.stop() == 0, d.stderr()


def _missing(db: Path, p: Path) -> bool:
    _, rows = run_query(db, "SELECT missing_since IS NOT NULL FROM files WHERE path = ?", [str(p)])
    return rows == [(True,)]


def _known(db: Path, p: Path) -> bool:
    _, rows = run_query(db, "SELECT missing_since IS NULL FROM files WHERE path = ?", [str(p)])
    return rows == [(True,)]


def test_root_created_after_start_is_watched(env: Path, tmp_path: Path) -> None:
    assert not env.parent.exists()  # no Claude config dir at all yet
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        assert str(env) in daemon_status()["roots_waiting"]
        write_lines(env / "p" / "late.jsonl", "late", range(3))
        wait_for(lambda: totals()[0] == 3, 5, "the events of a root created after start")
        assert str(env) in daemon_status()["roots_watched"]
    finally:
        assert d.stop() == 0, d.stderr()


def test_sigterm_commits_the_last_batch(env: Path, tmp_path: Path) -> None:
    f = env / "p" / "s.jsonl"
    write_lines(f, "t", range(2))
    # A long debounce: the appended line is still pending when SIGTERM arrives.
    d = DaemonProc(tmp_path, "--debounce", "30")
    d.wait_ready()
    write_lines(f, "t", range(2, 3))
    time.sleep(0.3)  # inotify delivered the change; the worker is in its debounce
    assert _count_or_zero() == 2
    t0 = time.monotonic()
    assert d.stop() == 0, d.stderr()
    assert time.monotonic() - t0 < 10
    assert totals() == truth(range(3))  # read directly: the daemon is gone
    assert "stopped" in d.stderr()


def test_query_output_is_identical_with_and_without_the_daemon(env: Path, tmp_path: Path) -> None:
    write_lines(env / "p" / "s.jsonl", "q", range(5))
    sql = """SELECT ts, ts::DATE AS day, sum(input_tokens)::DECIMAL(18, 3) AS dec, 1.50::DECIMAL(4, 2) AS lit,
                    TIMESTAMP '2024-02-29 23:59:59.123456' AS t2, DATE '2024-02-29' AS d2, TIME '12:34:56' AS tm,
                    INTERVAL 3 DAY + INTERVAL 5 SECOND AS iv, [1, 2] AS l, {'a': 1} AS st, 'x'::BLOB AS bl,
                    'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, NULL AS n, sum(input_tokens)::HUGEINT AS big,
                    TIMESTAMPTZ '2024-01-01 10:00:00+02' AS tz, sum(cost_usd) AS cost
             FROM events GROUP BY ts ORDER BY ts"""
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        with_daemon = {fmt: cli("query", sql, "-f", fmt).stdout for fmt in ("table", "json", "csv")}
        # The daemon holds the write lock, so a direct read-only open would fail: this went
        # over the socket, and without importing duckdb, pydantic or watchdog.
        code = (
            "import sys, os; from pathlib import Path; from logscan.service.client import daemon_query;"
            "daemon_query(Path(os.environ['LOGSCAN_DB']), 'SELECT 1');"
            "print(sorted(m for m in ('duckdb', 'pydantic', 'watchdog') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True).stdout
        assert out.strip() == "[]"
    finally:
        assert d.stop() == 0, d.stderr()
    without = {fmt: cli("query", sql, "-f", fmt).stdout for fmt in ("table", "json", "csv")}
    assert with_daemon == without
    # ids 0..4 all share one timestamp: sum(input) = 0+1+2+3+4 = 10
    assert "2026-01-05T10:00:00Z,2026-01-05,10,1.5,2024-02-29T23:59:59.123456Z,2024-02-29,12:34:56" in without["csv"]


def test_socket_is_private_read_only_and_interrupts_long_queries(env: Path, tmp_path: Path) -> None:
    write_lines(env / "p" / "s.jsonl", "r", range(2))
    d = DaemonProc(tmp_path, "--query-timeout", "0.5")
    try:
        d.wait_ready()
        sock = Path(os.environ["LOGSCAN_SOCKET"])
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        db = Path(os.environ["LOGSCAN_DB"])
        for bad in ("DELETE FROM events", "CREATE TABLE x (i INT)", "SELECT 1; DROP TABLE events", "COPY events TO '/tmp/x.csv'",
                    "ATTACH '/tmp/other.duckdb'", "SET threads = 1"):
            with pytest.raises(ReadOnlyViolation):
                daemon_query(db, bad)
        with pytest.raises(QueryError, match="interrupted"):
            daemon_query(db, "SELECT count(*) FROM range(100000000000) a")
        with pytest.raises(QueryError, match="Tables"):
            daemon_query(db, "SELECT nope FROM events")
        assert totals() == truth(range(2))  # still serving, nothing changed
        # A second daemon on the same socket refuses to start, naming the first.
        second = cli("daemon", check=False)
        assert second.returncode == 1 and "already answers" in second.stderr and str(d.p.pid) in second.stderr
    finally:
        assert d.stop() == 0, d.stderr()
    assert not Path(os.environ["LOGSCAN_SOCKET"]).exists()


def test_backfill_and_status_go_through_the_running_daemon(env: Path, tmp_path: Path) -> None:
    write_lines(env / "p" / "s.jsonl", "w", range(3))
    elsewhere = tmp_path / "old-laptop" / "projects"
    write_lines(elsewhere / "p" / "x.jsonl", "x", range(4))
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        res = cli("backfill", str(elsewhere))
        assert "events: 4 new" in res.stdout and "ingested by the running logscan daemon" in res.stderr
        assert totals() == (7, 3 + 6, 3 * 1 + 2 * 3 + 4 * 1 + 2 * 6)
        st = cli("status").stdout
        assert "running (pid" in st and "files watched:  2" in st and "7 total" in st
    finally:
        assert d.stop() == 0, d.stderr()
    st = cli("status")
    assert "not running" in st.stdout and "7 total" in st.stdout and "files known:    2" in st.stdout


def test_poll_mode_picks_up_appends(env: Path, tmp_path: Path) -> None:
    f = env / "p" / "s.jsonl"
    write_lines(f, "poll", range(1))
    d = DaemonProc(tmp_path, "--poll", "--poll-interval", "0.2")
    try:
        d.wait_ready()
        assert daemon_status()["observer"] == "polling"
        write_lines(f, "poll", range(1, 3))
        wait_for(lambda: totals() == truth(range(3)), 5, "a polled append")
    finally:
        assert d.stop() == 0, d.stderr()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts inotify watches in /proc")
def test_thousands_of_files_use_one_watch_per_directory(env: Path, tmp_path: Path) -> None:
    for k in range(2000):
        f = env / f"p{k % 20}" / f"s{k}.jsonl"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"")
    d = DaemonProc(tmp_path)
    try:
        d.wait_ready()
        watches = 0
        for fd in Path(f"/proc/{d.p.pid}/fdinfo").iterdir():
            try:
                watches += fd.read_text().count("inotify wd:")
            except OSError:
                continue
        # 21 directories under the root, plus a few parent directories of roots that do not exist.
        assert 21 <= watches < 40, watches
        assert daemon_status()["files_watched"] == 2000
    finally:
        assert d.stop() == 0, d.stderr()
