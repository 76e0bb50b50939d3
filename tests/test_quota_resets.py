"""Reset times resolved against the window's length (issue: "Resets 3pm" seen at 15:05 is the
reset that just passed, not tomorrow's), dotted times, impossible percentages refused, panels
recorded with --at, and statusline readings visible to ``quota`` before the next commit."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from logscan.cli import cli
from logscan.quota.timeparse import resolve_reset


def U(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


UTC = None  # zone given in the texts below


@pytest.mark.parametrize(
    "text, captured, window, expected, stale",
    [
        # 5-hour bar "Resets 3pm": just before, just after, at the start of the window, long after
        ("3pm (UTC)", "2026-07-09T14:58", 300, "2026-07-09T15:00", False),
        ("3pm (UTC)", "2026-07-09T15:05", 300, "2026-07-09T15:00", True),  # not tomorrow 15:00
        ("3pm (UTC)", "2026-07-09T10:00", 300, "2026-07-09T15:00", False),
        ("3pm (UTC)", "2026-07-09T22:00", 300, None, True),  # 7 h after: not this capture's reset
        ("3pm (UTC)", "2026-07-09T23:30", 300, None, True),
        ("3pm (UTC)", "2026-07-10T11:00", 300, "2026-07-10T15:00", False),  # the next day's, within 5 h
        ("5.27am (UTC)", "2026-07-09T03:00", 300, "2026-07-09T05:27", False),  # dotted time
        ("12:30 AM (UTC)", "2026-07-08T22:00", 300, "2026-07-09T00:30", False),
        # weekly bar, across the year boundary
        ("Dec 31 at 11:59pm (UTC)", "2026-12-30T10:00", 10080, "2026-12-31T23:59", False),
        ("Dec 31 at 11:59pm (UTC)", "2027-01-01T00:05", 10080, "2026-12-31T23:59", True),  # not Dec 31 2027
        ("Jan 2 at 1am (UTC)", "2026-12-29T12:00", 10080, "2027-01-02T01:00", False),  # next year's, within 7 d
        ("Dec 31 at 11:59pm (UTC)", "2027-02-01T00:00", 10080, None, True),  # a month later: stale text
        ("Feb 12 (UTC)", "2026-12-02T12:00", 10080, None, True),  # pasted in December: not ten weeks out
        ("Feb 12 (UTC)", "2026-02-12T18:00", 10080, "2026-02-12T00:00", False),  # that day: not past
        ("Feb 12 (UTC)", "2026-02-08T09:00", 10080, "2026-02-12T00:00", False),
    ],
)
def test_reset_is_resolved_within_the_window(text: str, captured: str, window: int, expected: str | None, stale: bool) -> None:
    r = resolve_reset(text, U(captured), None, window)
    assert r.at == (U(expected) if expected else None), (text, captured, r)
    assert bool(r.note) == stale, r.note
    if stale and expected:
        assert "stale" in r.note and "--at" in r.note
    if expected is None:
        assert "--at" in r.note


PANEL = """Current session
{session}% used  (Resets 3pm (UTC))
Current week (all models)
{week}% used  (Resets Dec 31 at 11:59pm (UTC))
"""


def paste(text: str, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["usage", "paste", *args], input=text)
    return r.exit_code, r.output


def bars() -> list[dict]:
    r = CliRunner().invoke(cli, ["quota", "-f", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_paste_at_records_a_panel_copied_earlier(db: Path) -> None:
    r = CliRunner().invoke(cli, ["usage", "paste", "--at", "2025-12-31T15:05Z", "-f", "json"], input=PANEL.format(session=12, week=40))
    code, out = r.exit_code, r.output
    assert code == 0, out
    rows = json.loads(r.stdout)
    assert {r["window"]: r["resets_at"] for r in rows} == {"five_hour": "2025-12-31T15:00:00+00:00", "weekly": "2025-12-31T23:59:00+00:00"}
    assert "stale" in out and "captured at 2025-12-31T15:05:00+00:00" in out
    from logscan.service.client import run_query

    _, stored = run_query(db, "SELECT window_kind, captured_at, note FROM quota_snapshots ORDER BY 1")
    assert [(w, str(c)) for w, c, _ in stored] == [("five_hour", "2025-12-31 15:05:00"), ("weekly", "2025-12-31 15:05:00")]
    assert "stale" in stored[0][2] and stored[1][2] is None  # the note is stored with the reading


@pytest.mark.parametrize("session, what", [("150", "150%"), ("-5", "-5%"), ("101.5", "101.5%")])
def test_impossible_percentages_are_refused_and_nothing_is_stored(db: Path, session: str, what: str) -> None:
    code, out = paste(PANEL.format(session=session, week=40), "--at", "2025-12-31T15:05Z")
    assert code == 1 and what in out and "nothing was stored" in out, out
    assert not Path(db).exists() or CliRunner().invoke(cli, ["query", "SELECT count(*) FROM quota_snapshots", "-f", "csv"]).output.splitlines()[1] == "0"


def test_at_must_be_a_time_in_the_past(db: Path) -> None:
    code, out = paste(PANEL.format(session=1, week=1), "--at", "yesterday-ish")
    assert code == 2 and "ISO 8601" in out
    code, out = paste(PANEL.format(session=1, week=1), "--at", "2999-01-01T00:00Z")
    assert code == 2 and "future" in out


def test_statusline_readings_show_in_quota_before_any_commit(db: Path, isolated: Path) -> None:
    """The statusline only appends to the spool; quota reads it too, at once."""
    import time

    from logscan.quota.spool import append

    paste(PANEL.format(session=5, week=5), "--at", "2025-12-31T15:05Z")  # the store exists, with older readings
    now = time.time()
    append([{"tool": "claude-code", "window": "five_hour", "used_percent": 61.0, "resets_at": now + 3600, "captured_at": now,
             "source": "statusline", "window_minutes": 300}])
    five = [b for b in bars() if b["window"] == "five_hour"]
    assert five and five[0]["used_percent"] == 61.0, five
