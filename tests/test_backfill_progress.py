"""Backfill's progress bar counts every source's work (issue 15): the OpenCode database and its
legacy JSON files have a share like any log, so the bar ends at exactly the planned total, moving
during the OpenCode phase; the "by tool" line counts events, the unit of the "events" line."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from test_parser_opencode import FIX as OC_FIX
from test_parser_opencode import build_db

from logscan.cli import cli
from logscan.ingest.ingestor import Ingestor
from logscan.ingest.discovery import discover
from logscan.store.store import Store

FIXTURES = Path(__file__).parent / "fixtures"


def corpus(tmp: Path) -> list[Path]:
    """Claude Code and Codex logs, an OpenCode database with many messages, and legacy JSON."""
    cc = tmp / "claude"
    shutil.copytree(FIXTURES / "claude-code" / "real", cc)
    cx = tmp / "codex"
    shutil.copytree(FIXTURES / "codex" / "real", cx)
    oc = tmp / "opencode"
    build_db(oc / "opencode.db", "db_main.sql")
    con = sqlite3.connect(oc / "opencode.db")
    row = con.execute("SELECT id, session_id, time_created, time_updated, data FROM message WHERE id = 'msg_a1'").fetchone()
    # many more messages, so the database is read in several chunks
    con.executemany("INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)",
                    [(f"msg_x{i:05d}", row[1], row[2] + i, row[3] + i, row[4]) for i in range(5000)])
    con.commit()
    con.close()
    shutil.copytree(OC_FIX / "legacy" / "storage", oc / "storage")
    return [cc, cx, oc / "opencode.db", oc / "storage"]


def test_progress_reaches_the_planned_total_through_opencode(tmp_path: Path, db: Path) -> None:
    roots = corpus(tmp_path)
    steps: list[int] = []
    with Store.open(db) as store:
        ing = Ingestor(store, batch_events=1000)
        todo, planned = ing.plan(roots, discover(roots))
        ing.progress = steps.append
        summary = ing.run_planned(todo)
    assert all(n > 0 for n in steps)
    assert sum(steps) == planned  # exactly 100 %: no stall short of the total, no overshoot
    db_size = (tmp_path / "opencode" / "opencode.db").stat().st_size
    assert planned >= db_size
    # the database's share comes in steps (per chunk of messages), not in one jump at its end
    assert max(steps) < db_size
    assert summary.by_tool["opencode"] > 5000
    assert sum(summary.by_tool.values()) == summary.new_events + summary.updated_events
    # a second run plans only the files no parser takes (they are looked at again) and ends at 100 %
    steps.clear()
    with Store.open(db) as store:
        ing = Ingestor(store)
        todo, planned = ing.plan(roots, discover(roots))
        ing.progress = steps.append
        ing.run_planned(todo)
    assert sum(steps) == planned < 10_000


def test_backfill_says_events_by_tool(tmp_path: Path, db: Path) -> None:
    roots = corpus(tmp_path)
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", *map(str, roots)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    line = next(x for x in r.stdout.splitlines() if x.startswith("events by tool"))
    new = next(x for x in r.stdout.splitlines() if x.startswith("events:"))
    counts = [int(part.rsplit(" ", 1)[1].replace(",", "")) for part in line.split(": ", 1)[1].split(", ")]
    n_new, n_updated = (int(new.split()[i].replace(",", "")) for i in (1, 3))
    assert sum(counts) == n_new + n_updated  # one unit: events
