"""`logscan doctor`: each check reports a status and says what to do."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from test_report_helpers import build_store, event_row

from logscan.cli import cli
from logscan.service.doctor import check_store, run_checks
from logscan.store.store import Store


def by_check(findings: list) -> dict[str, list]:  # noqa: ANN001
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.check, []).append(f)
    return out


def test_healthy_store(db: Path, isolated: Path) -> None:
    root = isolated / ".claude" / "projects" / "-p"
    root.mkdir(parents=True)
    (root / "s.jsonl").write_text("{}\n")
    build_store(db, [event_row(1, datetime(2026, 1, 1), cost_usd=1.0)])
    f = by_check(run_checks(db))
    assert f["duplicates"][0].status == "ok" and "= 0" in f["duplicates"][0].finding
    assert f["prices"][0].status == "ok"
    assert f["problems"][0].status == "ok"
    assert f["database"][0].finding.startswith("1 events")
    assert any(x.status == "ok" and "(1 log files)" in x.finding for x in f["roots"])
    assert f["daemon"][0].status == "warn" and "logscan daemon" in f["daemon"][0].todo
    assert f["service"][0].status == "info" and "service install" in f["service"][0].todo


def test_findings_say_what_to_do(db: Path) -> None:
    build_store(db, [event_row(1, datetime(2026, 1, 1), model="mystery-1", cost_usd=None), event_row(2, datetime(2026, 1, 2), cost_usd=0.5)])
    with Store.open(db) as st:
        st.con.execute("INSERT INTO problems VALUES ('/x.jsonl', 10, 'invalid-json', 'line is not JSON', 5, 'claude-code', 1, now()::TIMESTAMP)")
        # A duplicated event_id (which the single writer should never produce) must be caught.
        st.con.execute("INSERT INTO events SELECT * FROM events WHERE event_id = 2")
    r = CliRunner().invoke(cli, ["--db", str(db), "doctor", "-f", "json"])
    assert r.exit_code == 1  # the duplicate is an error
    f = {x["check"]: x for x in json.loads(r.stdout)}
    assert f["duplicates"]["status"] == "error" and "= 1" in f["duplicates"]["finding"] and f["duplicates"]["what_to_do"]
    assert f["prices"]["status"] == "warn" and "mystery-1 (claude-code) x1" in f["prices"]["finding"] and "prices.toml" in f["prices"]["what_to_do"]
    assert f["problems"]["status"] == "warn" and "invalid-json x1" in f["problems"]["finding"] and "logscan problems" in f["problems"]["what_to_do"]
    assert all(x["what_to_do"] for x in json.loads(r.stdout) if x["status"] in ("warn", "error"))


def test_no_database_and_strict(db: Path) -> None:
    r = CliRunner().invoke(cli, ["--db", str(db), "doctor"])
    assert r.exit_code == 0 and "no database at" in r.stdout and "logscan backfill" in r.stdout
    build_store(db, [event_row(1, datetime(2026, 1, 1), cost_usd=0.5)])
    with Store.open(db) as st:
        st.con.execute("INSERT INTO problems VALUES ('/x.jsonl', 10, 'schema', 'bad', 5, 'claude-code', 1, now()::TIMESTAMP)")
    assert CliRunner().invoke(cli, ["--db", str(db), "doctor", "--strict"]).exit_code == 3


def test_check_store_reports_query_errors(db: Path) -> None:
    def broken(db: Path, sql: str, params: object) -> object:
        from logscan.errors import DatabaseBusy

        raise DatabaseBusy("The database x is locked. Stop the other program and try again.")

    (f,) = check_store(db, broken)
    assert f.status == "error" and "locked" in f.finding
