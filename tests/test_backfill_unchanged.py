"""The no-change check of ``logscan backfill`` (logscan.ingest.unchanged): when nothing changed
since the last run it answers from a walk, with exactly the summary a full run prints, and
without opening the store or importing the parsers; any change takes the full run, which
stores what changed."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import logscan.commands.core as core
from logscan.cli import cli
from logscan.ingest.unchanged import sidecar

FIX = Path(__file__).parent / "fixtures"


def make_home(home: Path) -> dict[str, Path]:
    """A home with all four tools and one file no parser claims."""
    proj = home / ".claude" / "projects" / "-home-u-spotter"
    proj.mkdir(parents=True)
    claude = proj / "s1.jsonl"
    shutil.copy(FIX / "claude-code" / "real" / "spotter_short_v2.1.38.jsonl", claude)
    codex = home / ".codex" / "sessions" / "2026" / "05" / "01"
    codex.mkdir(parents=True)
    (codex / "notes.json").write_text('{"hello": "not a log"}\n')  # a file no parser claims
    shutil.copy(FIX / "codex" / "traps" / "cumulative_totals.jsonl", codex / "rollout-2026-05-01T10-00-00-00000000-0000-4000-8000-000000000001.jsonl")
    shutil.copytree(FIX / "gemini" / "home" / ".gemini", home / ".gemini")
    oc = Path(os.environ["XDG_DATA_HOME"]) / "opencode"
    oc.mkdir(parents=True)
    con = sqlite3.connect(oc / "opencode.db", isolation_level=None)
    assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    for name in ("schema_v1.2.sql", "db_main.sql"):
        con.executescript((FIX / "opencode" / name).read_text())
    con.close()
    return {"claude": claude, "notes": codex / "notes.json", "opencode": oc / "opencode.db", "codex": codex}


@pytest.fixture
def home(isolated: Path) -> dict[str, Path]:
    return make_home(isolated)


@pytest.fixture
def full_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the full run (not the no-change answer) was taken."""
    taken: list[int] = []
    real = core._backfill_here
    monkeypatch.setattr(core, "_backfill_here", lambda *a, **k: taken.append(1) or real(*a, **k))
    return taken


def backfill(db: Path, *args: str) -> dict[str, Any]:
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", "--json", *args])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    out.pop("seconds")
    return out


def settle(db: Path) -> dict[str, Any]:
    """The first backfill, and a second when the first found problem lines (the fixtures have
    some): a run that found problems leaves no sidecar, the next one (nothing new) does."""
    first = backfill(db)
    if not sidecar(db).exists():
        assert first["new_problems"] > 0
        assert backfill(db)["new_problems"] == 0
    assert sidecar(db).exists()
    return first


def text(db: Path) -> list[str]:
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill"])
    assert r.exit_code == 0, r.output
    return [line for line in r.output.splitlines() if not line.startswith("read ")]


def test_no_change_is_answered_from_the_walk_with_the_full_runs_summary(home: dict[str, Path], db: Path, full_runs: list[int]) -> None:
    first = settle(db)
    assert first["new_events"] > 10 and set(first["by_tool"]) == {"claude-code", "codex", "gemini", "opencode"}
    assert sidecar(db).stat().st_mode & 0o777 == 0o600
    n = len(full_runs)
    fast_json, fast_text = backfill(db), text(db)
    assert len(full_runs) == n  # answered without a full run
    sidecar(db).unlink()
    slow_json = backfill(db)  # the full run, on the same unchanged files
    assert len(full_runs) == n + 1
    slow_text = text(db)
    assert fast_json == slow_json
    assert fast_text == slow_text
    assert fast_json["files_unchanged"] > 5 and fast_json["files_unrecognized"] == 1 and fast_json["new_events"] == 0


def test_the_no_change_answer_imports_neither_the_parsers_nor_duckdb_nor_prices(home: dict[str, Path], db: Path, tmp_path: Path) -> None:
    settle(db)
    probe = (
        "import sys\n"
        "from logscan.entry import main\n"
        "sys.argv = ['logscan', '--db', sys.argv[1], 'backfill', '-q']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    script = tmp_path / "probe.py"
    script.write_text(probe.replace("main()\nexcept", "import atexit\n    atexit.register(lambda: print(sorted({m.split('.')[0].lstrip('_') if 'duckdb' in m else m for m in sys.modules if 'duckdb' in m or m in ('pydantic', 'genai_prices', 'logscan.sources.parsers')}), file=sys.stderr))\n    main()\nexcept"))
    r = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "0 read" in r.stdout and r.stderr.strip().splitlines()[-1] == "[]"
    sidecar(db).unlink()  # the full run does import them (the probe sees it)
    r = subprocess.run([sys.executable, str(script), str(db)], capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert "'duckdb'" in r.stderr.strip().splitlines()[-1] and "'pydantic'" in r.stderr.strip().splitlines()[-1]


def _append_claude(p: Path) -> None:
    line = json.loads(p.read_text().splitlines()[-1])
    extra = {
        "type": "assistant", "timestamp": "2026-05-02T10:00:00.000Z", "sessionId": "s-new", "cwd": "/home/u/x", "uuid": "u-new", "requestId": "req_new",
        "message": {"id": "msg_new_one", "model": "claude-sonnet-4-5", "role": "assistant", "type": "message", "content": [],
                    "usage": {"input_tokens": 7, "output_tokens": 11, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}},
    }
    assert line is not None
    with p.open("a") as f:
        f.write(json.dumps(extra, separators=(",", ":")) + "\n")


def _grow_opencode_wal(p: Path) -> None:
    con = sqlite3.connect(p, isolation_level=None)
    con.execute("PRAGMA wal_autocheckpoint=0")
    data = json.dumps({"role": "assistant", "time": {"created": 1789100000000}, "modelID": "gpt-5", "providerID": "openai",
                       "tokens": {"input": 5, "output": 6, "reasoning": 0, "cache": {"read": 0, "write": 0}}})
    con.execute("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES ('msg_wal', 'ses_main', 1789100000000, 1789100000001, ?)", [data])
    # kept open: the row lives only in the -wal, as while OpenCode runs
    _OPEN.append(con)


_OPEN: list[sqlite3.Connection] = []


@pytest.mark.parametrize("change,new_events", [
    ("append", 1), ("new-file", 1), ("delete", 0), ("touch", 0), ("opencode-wal", 1), ("unrecognized-edit", 0),
])
def test_every_change_takes_the_full_run(home: dict[str, Path], db: Path, full_runs: list[int], change: str, new_events: int) -> None:
    settle(db)
    n = len(full_runs)
    assert backfill(db)["files_read"] == 0 and len(full_runs) == n
    if change == "append":
        _append_claude(home["claude"])
    elif change == "new-file":
        shutil.copy(home["claude"], home["claude"].with_name("copy.jsonl"))
        _append_claude(home["claude"].with_name("copy.jsonl"))  # one call the first file does not have
    elif change == "delete":
        home["claude"].unlink()
    elif change == "touch":
        os.utime(home["claude"], ns=(1, 1))
    elif change == "opencode-wal":
        _grow_opencode_wal(home["opencode"])
    elif change == "unrecognized-edit":
        with home["notes"].open("a") as f:
            f.write('{"still": "not a transcript"}\n')
    try:
        out = backfill(db)
    finally:
        while _OPEN:
            _OPEN.pop().close()
    assert len(full_runs) == n + 1, change
    assert out["new_events"] == new_events, (change, out)
    if change == "delete":
        assert out["files_missing"] == 1
    if change == "opencode-wal":
        # closing the writer checkpointed its -wal into the database file: a change, read once more
        assert backfill(db)["new_events"] == 0 and len(full_runs) == n + 2
        n += 1
    again = backfill(db)  # and then the no-change answer again, with the new state
    assert again["new_events"] == 0 and again["files_read"] == 0 and len(full_runs) == n + 1, change


def test_a_restored_store_an_open_store_a_spool_a_daemon_socket_or_a_bad_sidecar_take_the_full_run(
    home: dict[str, Path], db: Path, full_runs: list[int], tmp_path: Path
) -> None:
    settle(db)
    older = tmp_path / "older.duckdb"
    shutil.copy(db, older)  # a backup taken now
    _append_claude(home["claude"])
    n = len(full_runs)
    assert backfill(db)["new_events"] == 1
    assert backfill(db)["files_read"] == 0 and len(full_runs) == n + 1
    # restore the older store: its events lack the appended call, so it must be read again
    shutil.copy(older, db)
    assert backfill(db)["new_events"] == 1 and len(full_runs) == n + 2
    assert backfill(db)["files_read"] == 0 and len(full_runs) == n + 2
    cases = {
        "wal": lambda: Path(f"{db}.wal").write_bytes(b""),
        "spool": lambda: (Path(os.environ["LOGSCAN_DATA_DIR"]).mkdir(parents=True, exist_ok=True),
                          (Path(os.environ["LOGSCAN_DATA_DIR"]) / "quota-spool.jsonl").write_text("")),
        "socket": lambda: (Path(os.environ["XDG_RUNTIME_DIR"]) / "logscan").mkdir(parents=True, exist_ok=True) or
                          (Path(os.environ["XDG_RUNTIME_DIR"]) / "logscan" / "sock").write_text(""),
        "garbage": lambda: sidecar(db).write_bytes(b"\x00{not json"),
        "chmod": lambda: os.chmod(db, 0o644),
    }
    from logscan.ingest.discovery import discover
    from logscan.ingest.unchanged import check
    from logscan.sources.locations import default_roots

    data = Path(os.environ["LOGSCAN_DATA_DIR"])
    for name, make in cases.items():
        n = len(full_runs)
        make()
        assert check(db, default_roots(), discover(default_roots())) is None, name
        if name != "wal":  # (an empty .wal left beside a closed store is DuckDB's business, not ours)
            assert backfill(db)["new_events"] == 0 and len(full_runs) == n + 1, name  # the full run
        for leftover in (Path(f"{db}.wal"), Path(os.environ["XDG_RUNTIME_DIR"]) / "logscan" / "sock", *data.glob("quota-spool*")):
            if leftover.exists():
                leftover.unlink()
        full = len(full_runs)
        backfill(db)  # settles (a full run if the store changed meanwhile), then the answer again:
        assert backfill(db)["files_read"] == 0 and len(full_runs) <= full + 1, name
        assert check(db, default_roots(), discover(default_roots())) is not None, name


def test_other_roots_or_another_store_take_the_full_run(home: dict[str, Path], db: Path, full_runs: list[int], tmp_path: Path) -> None:
    settle(db)
    backfill(db)
    n = len(full_runs)
    out = backfill(db, str(home["claude"].parent))  # other roots than last time
    assert len(full_runs) == n + 1 and out["files_read"] == 0 and out["files_unchanged"] == 1
    backfill(db)  # the default roots again: their listing was replaced, so a full run
    assert len(full_runs) == n + 2
    other = tmp_path / "other.duckdb"
    assert backfill(other)["new_events"] > 10 and len(full_runs) == n + 3


def test_no_sidecar_after_a_run_with_problems(home: dict[str, Path], db: Path, full_runs: list[int]) -> None:
    settle(db)
    n = len(full_runs)
    with home["claude"].open("a") as f:
        f.write('{"type":"assistant","message":{"usage": broken}\n')
    first = backfill(db)
    assert first["new_problems"] == 1 and not sidecar(db).exists()
    assert backfill(db)["new_problems"] == 0 and sidecar(db).exists()  # the problem is stored: nothing new
    assert len(full_runs) == n + 2


def test_locations_are_the_parsers_own() -> None:
    """The walk and the no-change check use logscan.sources.locations without the parsers: the
    parsers' roots and file endings are the same ones."""
    from logscan.sources.locations import default_roots, readable
    from logscan.sources.parsers import PARSERS, candidates

    roots: list[Path] = []
    for p in PARSERS.values():
        for r in p.default_roots():
            if r not in roots:
                roots.append(r)
    assert default_roots() == roots
    for name in ("a.jsonl", "a.jsonl.zst", "a.json", "opencode.db", "a.txt", "a.db-wal", "a.jsonl.tmp", "x.zst"):
        assert readable(name) == bool(candidates(name)), name
