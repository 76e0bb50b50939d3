"""Saved report renderings (logscan.reports.saved, used by logscan.service.thin when no daemon
runs): the same report asked again of the same untouched store is printed from the saved text,
byte for byte what the command prints, without importing click or DuckDB; any write to the
store, another terminal or zone, a report that depends on the clock, or a failed run is
rendered afresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli_probe import run_probe, write_probe
from logscan.cli import cli
from logscan.reports import saved

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    src = tmp_path / "src"
    shutil.copytree(FIX / "claude-code" / "real", src / "claude")
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", str(src / "claude")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("LOGSCAN_SOCKET", str(tmp_path / "no-daemon" / "sock"))
    probe = write_probe(tmp_path)
    return {"db": db, "probe": probe, "src": src}


def run(store: dict[str, Any], *argv: str, **env: str) -> tuple[str, str, int, str]:
    return run_probe(store["probe"], store["db"], *argv, **env)


def entries(db: Path) -> list[Path]:
    return sorted(saved.folder(db).glob("*.json"))


def test_the_second_ask_is_printed_from_the_saved_rendering(store: dict[str, Any]) -> None:
    for argv in (("report", "daily"), ("report", "model", "-f", "json"), ("report", "session", "--since", "2025-01-01"),
                 ("report", "project", "--since", "2099-01-01")):
        first = run(store, *argv)
        assert first[2] == 0 and "click" in first[3], argv  # rendered here, and saved
        again = run(store, *argv)
        assert again[:3] == first[:3] and again[3] == "", argv  # printed from the saved text
    assert len(entries(store["db"])) == 4
    d = saved.folder(store["db"])
    assert d.stat().st_mode & 0o777 == 0o700 and all(p.stat().st_mode & 0o777 == 0o600 for p in entries(store["db"]))


def test_a_write_to_the_store_renders_afresh_with_the_new_data(store: dict[str, Any]) -> None:
    before = run(store, "report", "daily", "-f", "csv")
    assert run(store, "report", "daily", "-f", "csv")[3] == ""
    extra = store["src"] / "claude" / "more.jsonl"
    line = {"type": "assistant", "timestamp": "2026-07-01T10:00:00.000Z", "sessionId": "s-x", "cwd": "/p", "uuid": "u-x", "requestId": "req_x",
            "message": {"id": "msg_saved_x", "model": "claude-sonnet-4-5", "role": "assistant", "type": "message", "content": [],
                        "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}}
    extra.write_text(json.dumps(line) + "\n")
    r = CliRunner().invoke(cli, ["--db", str(store["db"]), "backfill", str(store["src"] / "claude")])
    assert r.exit_code == 0 and "1 new" in r.output, r.output
    after = run(store, "report", "daily", "-f", "csv")
    assert "click" in after[3] and after[0] != before[0] and "2026-07-01" in after[0]
    assert len(entries(store["db"])) == 1  # the rendering of the older store was dropped


def test_clock_dependent_reports_and_failures_are_never_saved(store: dict[str, Any]) -> None:
    for argv in (("report", "daily", "--since", "7d"), ("report", "daily", "--until=12h"), ("report", "blocks"),
                 ("report", "daily", "--tool", "nope"), ("report", "daily", "--since", "garbage")):
        run(store, *argv)
        assert "click" in run(store, *argv)[3], argv
    assert entries(store["db"]) == []


def test_terminal_and_zone_are_part_of_the_question(store: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    outs = {}
    for env in ({"COLUMNS": "60", "TZ": "UTC"}, {"COLUMNS": "200", "TZ": "UTC"}, {"COLUMNS": "200", "TZ": "Pacific/Kiritimati"}):
        first = run(store, "report", "daily", **env)
        again = run(store, "report", "daily", **env)
        assert again[3] == "" and again[:3] == first[:3], env
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        direct = CliRunner().invoke(cli, ["--db", str(store["db"]), "report", "daily"], prog_name="logscan")
        assert direct.stdout == first[0], env
        outs[tuple(env.items())] = first[0]
    assert len(set(outs.values())) == 3 and len(entries(store["db"])) == 3


def test_an_open_store_or_a_damaged_saved_file_renders_afresh(store: dict[str, Any]) -> None:
    first = run(store, "report", "daily")
    (p,) = entries(store["db"])
    wal = Path(f"{store['db']}.wal")
    wal.write_bytes(b"")
    assert "click" in run(store, "report", "daily")[3]  # a writer may have it open: no saved answer
    wal.unlink()
    p.write_bytes(b"\x00 not json")
    again = run(store, "report", "daily")
    assert "click" in again[3] and again[:3] == first[:3]
    assert run(store, "report", "daily")[3] == ""  # saved again


def test_at_most_keep_renderings_are_kept(store: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saved, "KEEP", 3)
    db = store["db"]
    from logscan.store.settled import store_identity

    ident = store_identity(db)
    assert ident is not None
    for i in range(6):
        k = saved.key(db, ["report", "daily", f"--project=p{i}"], (80, False, False))
        assert k is not None and k[1] == ident
        saved.save(db, k[0], k[1], f"out {i}\n", "")
    assert len(entries(db)) == 3
    k = saved.key(db, ["report", "daily", "--project=p5"], (80, False, False))
    assert k is not None and saved.load(db, k[0]) == ("out 5\n", "")
    assert saved.key(db, ["report", "blocks"], (80, False, False)) is None
    assert saved.key(db, ["report", "daily", "--since", " 3W "], (80, False, False)) is None


def test_a_stdout_that_cannot_take_the_saved_text_renders_here(store: dict[str, Any]) -> None:
    first = run(store, "report", "daily", "--chart")
    assert first[2] == 0 and not first[0].isascii()  # the chart's bars are not ASCII
    assert run(store, "report", "daily", "--chart")[3] == ""  # saved
    ascii_run = run(store, "report", "daily", "--chart", PYTHONIOENCODING="ascii")
    assert "click" in ascii_run[3] and "Traceback" not in ascii_run[1]  # the ordinary path, its own one-line error
