"""Budgets: settings, standing, and the daemon hook that alerts once per period."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_helpers import build_store, event_row

from logscan.reports import budget as bud
from logscan.cli import cli
from logscan.ingest.hooks import AFTER_FLUSH
from logscan.store.store import Store


@pytest.fixture
def no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    # No notify-send/osascript: only the --exec channel can fire.
    monkeypatch.setattr(bud.shutil, "which", lambda name: None)


def test_hook_is_registered() -> None:
    assert "logscan.reports.budget:check" in AFTER_FLUSH


def test_period_start_in_zone() -> None:
    now = datetime(2026, 3, 4, 23, 30, tzinfo=timezone.utc)  # a Wednesday; already Thursday in Berlin
    assert bud.period_start("daily", now, "UTC") == date(2026, 3, 4)
    assert bud.period_start("daily", now, "Europe/Berlin") == date(2026, 3, 5)
    assert bud.period_start("weekly", now, "UTC") == date(2026, 3, 2)
    assert bud.period_start("monthly", now, "America/New_York") == date(2026, 3, 1)


def test_fires_once_per_period_via_exec(db: Path, tmp_path: Path, no_desktop: None) -> None:
    log = tmp_path / "alerts.log"
    bud.set_budget("daily", 2.0, exec_cmd=f'echo "$LOGSCAN_BUDGET_PERIOD $LOGSCAN_BUDGET_SPENT" >> {log}')
    bud.set_budget("daily", 1.0, tool="codex", exec_cmd=f"echo codex >> {log}")
    # Today (UTC) 2026-05-10: claude $1.50 + codex $0.40 = $1.90 < $2; codex alone < $1.
    build_store(db, [
        event_row(1, datetime(2026, 5, 10, 1), cost_usd=1.5),
        event_row(2, datetime(2026, 5, 10, 2), tool="codex", cost_usd=0.4),
        event_row(3, datetime(2026, 5, 9, 23), cost_usd=50.0),  # yesterday: not in today's period
    ])
    now = datetime(2026, 5, 10, 12, tzinfo=timezone.utc)
    with Store.open(db) as st:
        assert bud.check(st, now=now, zone="UTC") == []
        st.ingest(bud_batch([event_row(4, datetime(2026, 5, 10, 3), cost_usd=0.2)]))  # $2.10 in total
        fired = bud.check(st, now=now, zone="UTC")
        assert [(s.budget.tool, round(s.spent_usd, 6)) for s in fired] == [(None, 2.1)]
        assert bud.check(st, now=now, zone="UTC") == []  # once per period
        st.ingest(bud_batch([event_row(5, datetime(2026, 5, 10, 4), tool="codex", cost_usd=0.7)]))
        assert [s.budget.tool for s in bud.check(st, now=now, zone="UTC")] == ["codex"]
        # The next day is a new period: crossing again fires again.
        st.ingest(bud_batch([event_row(6, datetime(2026, 5, 11, 1), cost_usd=3.0)]))
        assert [s.budget.tool for s in bud.check(st, now=datetime(2026, 5, 11, 9, tzinfo=timezone.utc), zone="UTC")] == [None]
        rows = st.query("SELECT period, tool, period_start, channels FROM budget_alerts ORDER BY fired_at, tool")[1]
    assert rows == [("daily", "", date(2026, 5, 10), "exec"), ("daily", "codex", date(2026, 5, 10), "exec"), ("daily", "", date(2026, 5, 11), "exec")]
    assert log.read_text().splitlines() == ["daily 2.100000", "codex", "daily 3.000000"]


def bud_batch(rows: list) -> object:  # noqa: ANN001
    from logscan.store.store import Batch

    return Batch(events=rows)


def test_desktop_notification_when_present(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(bud.shutil, "which", lambda name: "/usr/bin/notify-send" if name == "notify-send" else None)
    monkeypatch.setattr(bud.sys, "platform", "linux")
    monkeypatch.setattr(bud.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    bud.set_budget("monthly", 1.0)
    build_store(db, [event_row(1, datetime(2026, 5, 2), cost_usd=1.0)])
    with Store.open(db) as st:
        fired = bud.check(st, now=datetime(2026, 5, 20, tzinfo=timezone.utc), zone="UTC")
        assert len(fired) == 1 and st.query("SELECT channels FROM budget_alerts")[1] == [("desktop",)]
    assert calls and calls[0][0] == "notify-send" and "monthly budget crossed: $1.00 of $1.00" in calls[0][-1]


def test_cli_set_show_rm(db: Path) -> None:
    build_store(db, [event_row(1, datetime.now(timezone.utc).replace(tzinfo=None), cost_usd=3.25), event_row(2, datetime.now(timezone.utc).replace(tzinfo=None), cost_usd=None)])
    r = CliRunner().invoke(cli, ["budget", "set", "daily", "10", "--tool", "claude-code"], catch_exceptions=False)
    assert r.exit_code == 0 and "daily budget for claude-code: $10.00" in r.stderr
    r = CliRunner().invoke(cli, ["budget", "--tz", "UTC", "-f", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert (row["period"], row["tool"], row["budget_usd"], row["spent_usd"], row["unpriced"], row["alerted"]) == ("daily", "claude-code", 10.0, 3.25, 1, False)
    assert row["percent"] == 32.5 and row["remaining_usd"] == 6.75
    r = CliRunner().invoke(cli, ["budget", "rm", "daily"])
    assert r.exit_code == 1 and "No daily budget is set" in r.stderr
    r = CliRunner().invoke(cli, ["budget", "rm", "daily", "--tool", "claude-code"])
    assert r.exit_code == 0
    r = CliRunner().invoke(cli, ["budget"])
    assert r.exit_code == 0 and "No budgets set" in r.stderr
    r = CliRunner().invoke(cli, ["budget", "set", "daily", "-5"])
    assert r.exit_code != 0


def test_malformed_settings_file_is_a_clear_error() -> None:
    p = bud.settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("{not json")
    r = CliRunner().invoke(cli, ["budget"])
    assert r.exit_code == 1 and str(p) in r.stderr and "delete the file" in r.stderr
