"""The thin report client (logscan.service.thin): with a daemon running, ``logscan report ...``
is rendered by the daemon and printed byte for byte as the ordinary path prints it, without
importing click or DuckDB in the client; without one (or for another database) the ordinary
path runs. The daemon renders only the read-only reports, and survives malformed requests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from daemon_helpers import DaemonProc
from cli_probe import run_probe, write_probe
from logscan.cli import cli

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def served(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A store with Claude Code and Codex calls, and a daemon serving it on a private socket."""
    src = tmp_path / "src"
    shutil.copytree(FIX / "claude-code" / "real", src / "claude")
    shutil.copytree(FIX / "codex" / "real", src / "codex")
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", str(src)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    sock_dir = Path(tempfile.mkdtemp(prefix="lsthin", dir="/tmp"))
    monkeypatch.setenv("LOGSCAN_SOCKET", str(sock_dir / "sock"))
    empty = tmp_path / "nothing"
    empty.mkdir()
    d = DaemonProc(tmp_path, str(empty), env={**os.environ, "TZ": "UTC"})
    probe = write_probe(tmp_path)
    try:
        d.wait_ready()
        yield {"db": db, "probe": probe, "daemon": d}
    finally:
        assert d.stop() == 0
        shutil.rmtree(sock_dir, ignore_errors=True)


def thin(served: dict[str, Any], *argv: str, **env: str) -> tuple[str, str, int, str]:
    """(stdout, stderr, exit code, modules the client imported) of a client process."""
    return run_probe(served["probe"], served["db"], *argv, **env)


def direct(served: dict[str, Any], *argv: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[str, str, int]:
    """The ordinary path: the click command in this process (its queries go to the daemon)."""
    monkeypatch.setenv("COLUMNS", "80")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(cli, ["--db", str(served["db"]), *argv], prog_name="logscan")
    return r.stdout, r.stderr, r.exit_code


CASES = [
    ("report", "daily"),
    ("report", "weekly", "--since", "20250101"),
    ("report", "monthly", "-f", "json"),
    ("report", "daily", "--tool", "cc", "-f", "csv"),
    ("report", "session", "--order", "desc"),
    ("report", "model", "--compact"),
    ("report", "tool", "--wide"),
    ("report", "daily", "--breakdown"),
    ("report", "daily", "--chart"),
    ("report", "blocks"),
    ("report", "project", "--since", "2099-01-01"),  # nothing matches: a message on stderr
    ("report", "session", "--tz", "America/New_York", "--since", "20250101", "-f", "json"),
    ("report", "model", "--tool", "codex", "--tz", "Europe/Paris", "-f", "csv"),
    ("report", "host", "--since", "7d"),
]


def test_the_daemon_renders_what_the_ordinary_path_prints(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in CASES:
        out, err, code, mods = thin(served, *argv, TZ="Asia/Tokyo")
        assert mods == "", (argv, mods)  # rendered by the daemon: no click, DuckDB or pydantic here
        want = direct(served, *argv, monkeypatch=monkeypatch, TZ="Asia/Tokyo")
        assert (out, err, code) == want, argv
    assert "2025" in thin(served, "report", "daily")[0]


def test_the_client_zone_and_width_win_over_the_daemons(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    tokyo = thin(served, "report", "daily", "-f", "csv", TZ="Asia/Tokyo")
    utc = thin(served, "report", "daily", "-f", "csv", TZ="UTC")  # the daemon's own TZ is UTC
    assert tokyo[0] != utc[0]
    assert tokyo[:3] == direct(served, "report", "daily", "-f", "csv", monkeypatch=monkeypatch, TZ="Asia/Tokyo")
    narrow = thin(served, "report", "daily", COLUMNS="60")
    assert max(len(line) for line in narrow[0].splitlines()) <= 60 < max(len(line) for line in thin(served, "report", "daily", COLUMNS="200")[0].splitlines())


def test_usage_errors_come_back_as_click_prints_them(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (("report", "daily", "--tool", "nope"), ("report", "daily", "--since", "yesterday-ish"), ("report", "daily", "--bogus")):
        out, err, code, mods = thin(served, *argv)
        assert mods == "" and code != 0 and "Error" in err, argv
        assert (out, err, code) == direct(served, *argv, monkeypatch=monkeypatch), argv


def test_other_commands_and_other_databases_run_here(served: dict[str, Any], tmp_path: Path) -> None:
    out, _, code, mods = thin(served, "report", "daily", "--help")
    assert code == 0 and "Usage" in out and "click" in mods  # help is click's own, here
    other = tmp_path / "other.duckdb"
    r = subprocess.run([sys.executable, str(served["probe"]), "--db", str(other), "report", "daily"], capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "80"}, timeout=60)
    assert "click" in r.stderr.rpartition("MODULES ")[2]  # the daemon serves another file: the ordinary path
    from logscan.service import thin as thin_mod

    assert thin_mod.command(["query", "SELECT 1"]) is None
    assert thin_mod.command(["report", "html", "-o", "x.html"]) is None
    assert thin_mod.command(["--verbose", "report", "daily"]) is None
    assert thin_mod.command(["--db=x", "report", "daily", "--since", "7d"]) == ("x", ["report", "daily", "--since", "7d"])


def test_without_a_daemon_the_client_says_so_and_the_ordinary_path_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from logscan.service import thin as thin_mod

    monkeypatch.setenv("LOGSCAN_SOCKET", str(tmp_path / "none" / "sock"))
    assert thin_mod.render(["report", "daily"]) is None
    stale = tmp_path / "stale"
    stale.mkdir(mode=0o700)
    (stale / "sock").write_text("not a socket")
    monkeypatch.setenv("LOGSCAN_SOCKET", str(stale / "sock"))
    assert thin_mod.render(["report", "daily"]) is None


def _request(served: dict[str, Any], **msg: Any) -> dict[str, Any]:
    from logscan.service.client import request

    base = {"op": "render", "db": str(served["db"].resolve()), "argv": ["report", "daily"], "width": 80, "isatty": False, "color": False, "tz": ""}
    return request({**base, **msg}, timeout=30)


def test_the_daemon_renders_only_reports_and_survives_bad_requests(served: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "written.html"
    for argv in (["backfill"], ["report", "html", "-o", str(target)], ["query", "SELECT 1"], ["budget", "set", "5"], ["report"], [],
                 ["report", "daily", "x" * 5000], ["report", "daily"] * 200, "report daily", [1, 2], None):
        reply = _request(served, argv=argv)
        assert reply["ok"] is False and reply["error"] == "bad-request", argv
    assert not target.exists()
    for bad in ({"width": "80"}, {"width": -1}, {"width": True}, {"isatty": "yes"}, {"color": None}, {"tz": 5}, {"tz": "x" * 500}):
        assert _request(served, **bad)["ok"] is False, bad
    from logscan.service.client import request

    assert request({"op": "render"}, timeout=10)["ok"] is False  # nothing else given
    assert request({"op": "ping"}, timeout=10)["ok"] is True  # still serving
    ok = _request(served)
    assert ok["ok"] is True and ok["code"] == 0 and "day" in ok["stdout"]


def test_concurrent_renders_each_get_their_own_terminal_and_zone(served: dict[str, Any]) -> None:
    want = {(w, tz): _request(served, width=w, tz=tz, argv=["report", "daily"])["stdout"] for w in (60, 120) for tz in ("UTC", "Asia/Tokyo")}
    assert len(set(want.values())) == 4
    errors: list[str] = []

    def worker(w: int, tz: str) -> None:
        for _ in range(8):
            got = _request(served, width=w, tz=tz, argv=["report", "daily"])
            if got.get("stdout") != want[(w, tz)]:
                errors.append(f"{w} {tz}")

    threads = [threading.Thread(target=worker, args=key) for key in want for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


def test_a_stdout_that_cannot_take_the_answer_runs_the_ordinary_path(served: dict[str, Any]) -> None:
    # the chart's bars are not ASCII: the ordinary path fails partway with one line on stderr
    # (not a traceback), and so must the client, rather than dying on the daemon's text
    e = {**os.environ, "COLUMNS": "80", "PYTHONIOENCODING": "ascii"}
    e.pop("LOGSCAN_DEBUG", None)
    argv = ["--db", str(served["db"]), "report", "daily", "--chart"]
    got = subprocess.run([sys.executable, str(served["probe"]), *argv], capture_output=True, text=True, env=e, timeout=60)
    ordinary = subprocess.run([sys.executable, "-c", "from logscan.cli import cli; cli(prog_name='logscan')", *argv],
                              capture_output=True, text=True, env=e, timeout=60)
    assert ordinary.returncode == 1 and "UnicodeEncodeError" in ordinary.stderr and "Traceback" not in ordinary.stderr
    assert (got.stdout, got.stderr.rpartition("MODULES ")[0], got.returncode) == (ordinary.stdout, ordinary.stderr, 1)
    e["PYTHONIOENCODING"] = "ascii:replace"  # this one can: rendered by the daemon, replaced here as it would be
    out = subprocess.run([sys.executable, str(served["probe"]), *argv], capture_output=True, text=True, env=e, timeout=60)
    want = subprocess.run([sys.executable, "-c", "from logscan.cli import cli; cli(prog_name='logscan')", *argv],
                          capture_output=True, text=True, env=e, timeout=60)
    assert out.returncode == 0 and out.stdout == want.stdout and "?" in out.stdout
    assert out.stderr.rpartition("MODULES ")[2].strip() == ""


def test_an_insecure_socket_is_not_used(served: dict[str, Any]) -> None:
    from logscan.service import thin as thin_mod

    folder = Path(os.environ["LOGSCAN_SOCKET"]).parent
    argv = ["--db", str(served["db"]), "report", "daily"]
    folder.chmod(0o750)  # readable by the group: not private
    try:
        assert thin_mod.render(argv) is None
    finally:
        folder.chmod(0o700)
    assert thin(served, "report", "daily")[3] == ""  # private again: rendered by the daemon


def test_an_older_daemon_that_does_not_render_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    import socketserver

    from logscan.service import thin as thin_mod

    seen: list[bytes] = []
    replies = iter([b'{"ok": false, "error": "bad-request", "message": "Unknown op \'render\'"}\n', b"", b"not json\n",
                    b'{"ok": true, "stdout": 5, "stderr": "", "code": 0}\n'])

    class Old(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            seen.append(self.rfile.readline())
            self.wfile.write(next(replies))

    folder = Path(tempfile.mkdtemp(prefix="lsold", dir="/tmp"))
    server = socketserver.ThreadingUnixStreamServer(str(folder / "sock"), Old)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("LOGSCAN_SOCKET", str(folder / "sock"))
    try:
        for _ in range(4):  # unknown op, closed without a word, not JSON, a malformed reply
            assert thin_mod.render(["--db", str(db), "report", "daily"]) is None
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)
    assert len(seen) == 4 and all(b'"op": "render"' in s for s in seen)
