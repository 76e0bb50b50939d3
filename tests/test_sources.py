"""logscan sources: every default root of every parser, with what the filesystem and the store
say about it. Expected counts are derived by hand from the fixtures (see
tests/fixtures/gemini/README.md and tests/fixtures/claude-code/zai/README.md)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.commands.sources import OTHER, source_rows
from logscan.sources.parsers import PARSERS
from logscan.paths import xdg_config_home

FIX = Path(__file__).parent / "fixtures"
ZAI = FIX / "claude-code" / "zai" / "5a1e0000-2a1b-4c3d-8e9f-0000000000a1.jsonl"


def rows_by_root(db: Path, now: datetime | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    columns, rows, _ = source_rows(db, now)
    return {(r[0], r[2]): dict(zip(columns, r)) for r in rows}


@pytest.fixture
def homes(isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gemini fixture home as $GEMINI_CLI_HOME, and the z.ai Claude Code transcript in ~/.claude."""
    gem = tmp_path / "gemhome"
    shutil.copytree(FIX / "gemini" / "home", gem)
    monkeypatch.setenv("GEMINI_CLI_HOME", str(gem))
    proj = isolated / ".claude" / "projects" / "-home-dev-zapp"
    proj.mkdir(parents=True)
    shutil.copy(ZAI, proj)
    return gem


def backfill(*args: str) -> None:
    res = CliRunner().invoke(cli, ["backfill", "-q", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def test_without_a_database_every_default_root_is_listed(isolated: Path, db: Path) -> None:
    res = CliRunner().invoke(cli, ["sources", "-f", "json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    expected = {(getattr(p, "tool", p.name), str(r)) for p in PARSERS.values() for r in p.default_roots()}
    assert {(r["tool"], r["root"]) for r in rows} == expected
    assert all(r["exists"] is False and r["status"] == "not found" and r["events"] == 0 for r in rows)
    assert "No database at" in res.stderr and "logscan backfill" in res.stderr


def test_counts_per_root(homes: Path, db: Path, isolated: Path) -> None:
    backfill()
    got = rows_by_root(db, now=datetime(2026, 5, 8, tzinfo=timezone.utc))
    gem = got[("gemini", str(homes / ".gemini" / "tmp"))]
    # 8 .jsonl + 2 .json session files; 18 events, 4 problems (tests/test_parser_gemini.py);
    # the newest message is s7-g3 at 2026-05-06T09:00:04Z. Since 2026-05-01: S1 3, S2 1, S3 3,
    # S4 3, S5 2, S6 0, S7 1 (s7-g3), S8 1 = 14.
    assert gem["parsers"] == "gemini, gemini-legacy"
    assert (gem["exists"], gem["files_on_disk"], gem["files_tracked"], gem["files_gone"]) == (True, 10, 10, 0)
    assert (gem["events"], gem["events_7d"], gem["problems"]) == (18, 14, 4)
    assert gem["last_event"] == datetime(2026, 5, 6, 9, 0, 4)
    assert gem["last_read"] is not None and gem["status"] == "ok"
    claude = got[("claude-code", str(isolated / ".claude" / "projects"))]
    # One transcript with 4 distinct message ids (two lines share one).
    assert (claude["files_on_disk"], claude["files_tracked"], claude["events"], claude["problems"]) == (1, 1, 4, 0)
    assert claude["last_event"] == datetime(2026, 3, 1, 10, 3)
    assert claude["status"] == "no events in 7 days"
    assert got[("claude-code", str(xdg_config_home() / "claude" / "projects"))]["status"] == "not found"


def test_a_source_that_went_quiet_or_lost_files_is_visible(homes: Path, db: Path) -> None:
    backfill()
    victim = homes / ".gemini" / "tmp" / "legacy-tool" / "chats" / "session-2026-04-20T16-45-ffff6666.json"
    victim.unlink()
    backfill()
    gem = rows_by_root(db, now=datetime(2027, 1, 1, tzinfo=timezone.utc))[("gemini", str(homes / ".gemini" / "tmp"))]
    assert (gem["files_on_disk"], gem["files_tracked"], gem["files_gone"]) == (9, 10, 1)
    assert gem["events"] == 18  # events of a deleted file are kept
    assert gem["events_7d"] == 0
    assert "no events in 7 days" in gem["status"] and "1 files deleted from disk" in gem["status"]


def test_files_on_disk_not_yet_ingested(homes: Path, db: Path) -> None:
    backfill()
    extra = homes / ".gemini" / "tmp" / "webapp" / "chats" / "session-2026-06-01T00-00-12345678.jsonl"
    extra.write_text('{"sessionId":"12345678-0000-4000-8000-000000000000","projectHash":"x","kind":"main"}\n')
    gem = rows_by_root(db)[("gemini", str(homes / ".gemini" / "tmp"))]
    assert (gem["files_on_disk"], gem["files_tracked"]) == (11, 10)
    assert "1 files not ingested yet" in gem["status"]


def test_data_from_outside_the_default_roots_has_its_own_row(isolated: Path, tmp_path: Path, db: Path) -> None:
    elsewhere = tmp_path / "old-laptop" / "projects" / "-home-dev-zapp"
    elsewhere.mkdir(parents=True)
    shutil.copy(ZAI, elsewhere)
    backfill(str(tmp_path / "old-laptop"))
    got = rows_by_root(db)
    other = got[("claude-code", OTHER)]
    assert (other["exists"], other["files_on_disk"], other["files_tracked"], other["events"]) == (None, None, 1, 4)
    assert got[("claude-code", str(isolated / ".claude" / "projects"))]["events"] == 0


def test_reads_go_through_run_query(homes: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run_query is the one door to the store: through the daemon when it runs, read-only on disk
    # otherwise (logscan.service.client).
    backfill()
    import logscan.service.client as client

    calls: list[str] = []
    real = client.run_query

    def spy(db_: Path, sql: str, params: Any = None) -> Any:
        calls.append(sql)
        return real(db_, sql, params)

    monkeypatch.setattr(client, "run_query", spy)
    gem = rows_by_root(db)[("gemini", str(homes / ".gemini" / "tmp"))]
    assert len(calls) == 1 and gem["events"] == 18


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "ndjson"])
def test_every_format(homes: Path, db: Path, fmt: str) -> None:
    backfill()
    res = CliRunner().invoke(cli, ["sources", "-f", fmt], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "gemini, gemini-legacy" in res.stdout
    assert res.stderr == ""
