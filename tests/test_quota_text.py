"""Every /usage and /status sample in the corpus parsed to the numbers a person reads in it.

Truth: written by reading each text file (see the comment per case): the percent printed on each
row, "% left" converted to used (100 - left), and the reset converted by hand from the printed
wall-clock time in the printed zone (or UTC, the tests' TZ, when none is printed) to UTC, taking
the next such instant after the capture time chosen for the case.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.quota.text import QuotaTextError, detect, parse_claude_usage, parse_codex_status, parse_panel
from logscan.quota.timeparse import resolve_reset

REAL = Path(__file__).parent / "fixtures" / "quota" / "real"
CLAUDE = REAL / "claude-usage-text"
CODEX = REAL / "codex-status-text"


def U(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


def rows(res):  # (window, scope, used, resets_at UTC or None)
    return sorted((s.window, s.scope or "", s.used_percent, s.resets_at) for s in res.snapshots)


CLAUDE_CASES = {
    # Nov 2025 panel, inline "(Resets ...)". Captured 2025-11-27 02:00Z = 03:00 Vienna (CET, UTC+1):
    # 5am Vienna that day = 04:00Z (within the 5-hour window); Dec 2 12am Vienna = Dec 1 23:00Z.
    "usage_2025-11_sonnet-only_with-nov24-notice_europe-vienna.txt": (
        "2025-11-27T02:00",
        [("five_hour", "", 1.0, U("2025-11-27T04:00")), ("weekly", "", 1.0, U("2025-12-01T23:00")),
         ("weekly_model", "Sonnet only", 1.0, U("2025-12-01T23:00"))],
    ),
    # Captured 2026-07-20 03:00Z = 12:00 Seoul (UTC+9): 1:10pm = 04:10Z; Jul 24 2pm = 05:00Z.
    # The garbled "(all modls)" copy (67%) comes after the real row (66%) and is dropped.
    "usage_2026_fable-scoped_garbled-duplicate_asia-seoul.txt": (
        "2026-07-20T03:00",
        [("five_hour", "", 0.0, U("2026-07-20T04:10")), ("weekly", "", 66.0, U("2026-07-24T05:00")),
         ("weekly_model", "Fable", 71.0, U("2026-07-24T05:00"))],
    ),
    # Captured 2026-07-06 10:00Z = 12:00 Prague (CEST, UTC+2): 2:09pm = 12:09Z; "Jul 10 t 2:59am" and
    # "Reset Jul 10 at 2:59am" = Jul 10 00:59Z; "Example Model" prints no reset.
    "usage_2026_fable-scoped_settings-stats-tab_europe-prague.txt": (
        "2026-07-06T10:00",
        [("five_hour", "", 9.0, U("2026-07-06T12:09")), ("weekly", "", 67.0, U("2026-07-10T00:59")),
         ("weekly_model", "Example Model", 12.0, None), ("weekly_model", "Fable", 68.0, U("2026-07-10T00:59"))],
    ),
    # CR-only lines. Captured 2025-12-20 10:00Z = 11:00 Paris (CET): 12:59pm = 11:59Z;
    # Dec 24 3:59pm = 14:59Z; Dec 23 3:59am = 02:59Z.
    "usage_CR-line-endings_europe-paris.txt": (
        "2025-12-20T10:00",
        [("five_hour", "", 17.0, U("2025-12-20T11:59")), ("weekly", "", 4.0, U("2025-12-24T14:59")),
         ("weekly_model", "Sonnet only", 3.0, U("2025-12-23T02:59"))],
    ),
    # No zone printed: read in the local zone (UTC in tests). 11am after 08:00Z = 11:00Z;
    # "Nov 27" (a date only) = its start, 2025-11-27 00:00Z.
    "usage_ansi-escapes_no-timezone.txt": (
        "2025-11-20T08:00",
        [("five_hour", "", 40.0, U("2025-11-20T11:00")), ("weekly", "", 10.0, U("2025-11-27T00:00")),
         ("weekly_model", "Sonnet only", 0.0, U("2025-11-27T00:00"))],
    ),
    # Spaces stripped. Captured 2026-02-08 19:00Z = 00:30 Feb 9 Calcutta (UTC+5:30): 4:29am that
    # day = Feb 8 22:59Z (within the 5-hour window); Feb 12 1:29pm = 07:59Z.
    "usage_compact-markers_no-spaces_asia-calcutta.txt": (
        "2026-02-08T19:00",
        [("five_hour", "", 6.0, U("2026-02-08T22:59")), ("weekly", "", 4.0, U("2026-02-12T07:59")),
         ("weekly_model", "Sonnet only", 1.0, U("2026-02-12T07:59"))],
    ),
    # Captured 2025-11-26 10:00Z = 11:00 Vienna: 3pm = 14:00Z.
    "usage_enterprise_session-only_bar.txt": ("2025-11-26T10:00", [("five_hour", "", 2.0, U("2025-11-26T14:00"))]),
    # Captured 2025-12-30 10:00Z = 12:00 Helsinki (UTC+2): 3:59pm = 13:59Z; Jan 2, 2026, 10:59pm =
    # 20:59Z; the Sonnet row prints no reset; "Extra usage" is not a bar.
    "usage_extra-usage-section_europe-helsinki.txt": (
        "2025-12-30T10:00",
        [("five_hour", "", 1.0, U("2025-12-30T13:59")), ("weekly", "", 1.0, U("2026-01-02T20:59")),
         ("weekly_model", "Sonnet only", 0.0, None)],
    ),
    # Legacy "(Opus)" row, no zone (UTC): 11am = 11:00Z; Nov 21 = 00:00Z.
    "usage_legacy_current-week-opus_label.txt": (
        "2025-11-15T09:00",
        [("five_hour", "", 12.0, U("2025-11-15T11:00")), ("weekly", "", 55.0, U("2025-11-21T00:00")),
         ("weekly_model", "Opus", 5.0, U("2025-11-21T00:00"))],
    ),
    # Header status bar "░░░ 0%" is not a bar. Captured at 22:47 Calcutta = 17:17Z on 2026-02-05:
    # 11:30pm = 18:00Z; Feb 12 1:30pm = 08:00Z. "Curretsession" is the session row.
    "usage_v2.1.29_header-statusbar_garbled-redraw_asia-calcutta.txt": (
        "2026-02-05T17:17",
        [("five_hour", "", 15.0, U("2026-02-05T18:00")), ("weekly", "", 3.0, U("2026-02-12T08:00")),
         ("weekly_model", "Sonnet only", 1.0, U("2026-02-12T08:00"))],
    ),
}

CODEX_CASES = {
    # Old style "% used"; no zone (UTC). 03:14 and 03:24 after 00:00Z are the same day.
    "codex_tui_status_snapshot_reasoning_details_used-variant.snap": (
        "2025-10-01T00:00", [("five_hour", "", 72.0, U("2025-10-01T03:14")), ("weekly", "", 45.0, U("2025-10-01T03:24"))], [],
    ),
    # "Monthly limit ... 12% used (resets 07:08 on 7 May)".
    "codex_tui_status_snapshot_monthly_limit_v0.48.0.snap": ("2025-04-20T00:00", [("monthly", "", 12.0, U("2025-05-07T07:08"))], []),
    # New style "% left": 55% left = 45 used, 70% left = 30 used; "Credits: 38 credits". Seen at
    # 05:00Z, so 09:25 is within the 5-hour window.
    "codex_tui_status_snapshot_credits_and_limits_left-variant.snap": (
        "2026-01-10T05:00", [("five_hour", "", 45.0, U("2026-01-10T09:25")), ("weekly", "", 30.0, U("2026-01-10T09:55"))], [38.0],
    ),
}


@pytest.mark.parametrize("name", sorted(CLAUDE_CASES))
def test_claude_usage_corpus(name: str) -> None:
    cap, truth = CLAUDE_CASES[name]
    text = (CLAUDE / name).read_text(encoding="utf-8")
    assert detect(text) == "claude-code"
    res = parse_panel(text, U(cap))
    assert res.tool == "claude-code"
    assert rows(res) == sorted(truth)
    for s in res.snapshots:
        assert s.captured_at == U(cap) and s.source == "usage-paste"


def test_every_claude_sample_is_covered() -> None:
    names = {p.name for p in CLAUDE.glob("usage_*.txt")}
    assert names == set(CLAUDE_CASES) | {"usage_error_oauth-token-expired.txt", "usage_v2.1.29_loading-only.txt"}
    assert {p.name for p in CODEX.iterdir()} == set(CODEX_CASES) | {"codex_status_user_captures_from_issues.txt"}


def test_zone_assumed_is_reported_only_without_a_zone() -> None:
    res = parse_panel((CLAUDE / "usage_ansi-escapes_no-timezone.txt").read_text(), U("2025-11-20T08:00"))
    assert {s.zone_assumed for s in res.snapshots} == {"UTC"}
    assert any("without a zone" in n for n in res.notes)
    res = parse_panel((CLAUDE / "usage_CR-line-endings_europe-paris.txt").read_text(), U("2025-12-20T10:00"))
    assert {s.zone_assumed for s in res.snapshots} == {None}


def test_explicit_zone_for_zoneless_resets() -> None:
    from logscan.quota.timeparse import get_zone

    res = parse_claude_usage((CLAUDE / "usage_legacy_current-week-opus_label.txt").read_text(), U("2025-11-15T09:00"), zone=get_zone("Europe/Berlin"))
    five = next(s for s in res.snapshots if s.window == "five_hour")
    assert five.resets_at == U("2025-11-15T10:00") and five.zone_assumed == "Europe/Berlin"  # 11am CET = 10:00Z


@pytest.mark.parametrize(
    ("name", "needle"),
    [("usage_error_oauth-token-expired.txt", "token_expired"), ("usage_v2.1.29_loading-only.txt", "still loading")],
)
def test_error_and_loading_panels_store_nothing(name: str, needle: str) -> None:
    with pytest.raises(QuotaTextError, match=needle):
        parse_panel((CLAUDE / name).read_text(), U("2026-01-01T00:00"))


def test_last_complete_panel_wins() -> None:
    a = (CLAUDE / "usage_2025-11_sonnet-only_with-nov24-notice_europe-vienna.txt").read_text()
    b = (CLAUDE / "usage_v2.1.29_header-statusbar_garbled-redraw_asia-calcutta.txt").read_text()
    loading = (CLAUDE / "usage_v2.1.29_loading-only.txt").read_text()
    res = parse_panel(a + "\n" + b + "\n" + loading, U("2026-02-05T17:17"))
    assert sorted(s.used_percent for s in res.snapshots) == [1.0, 3.0, 15.0]  # panel b, not a or the loading one
    assert any("skipped" in n for n in res.notes)


@pytest.mark.parametrize("name", sorted(CODEX_CASES))
def test_codex_status_corpus(name: str) -> None:
    cap, truth, credits = CODEX_CASES[name]
    text = (CODEX / name).read_text(encoding="utf-8")
    assert detect(text) == "codex"
    res = parse_panel(text, U(cap))
    assert res.tool == "codex"
    assert rows(res) == sorted([*truth, *[("credits", "", None, None) for _ in credits]])
    assert [s.credits for s in res.snapshots if s.window == "credits"] == credits
    assert all(s.zone_assumed == "UTC" for s in res.snapshots if s.resets_at)


def test_codex_user_captures() -> None:
    # The file holds separate short captures; each is fed alone. Read by hand:
    lines = (CODEX / "codex_status_user_captures_from_issues.txt").read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines if not ln.startswith("#")]
    cap = U("2025-11-26T12:00")
    # 56% left = 44 used, resets 03:16 on 2 Dec; 65% left = 35 used, resets 18:05 on 29 Nov.
    assert rows(parse_codex_status(body[0], cap)) == [("weekly", "", 44.0, U("2025-12-02T03:16"))]
    assert rows(parse_codex_status(body[1], cap)) == [("weekly", "", 35.0, U("2025-11-29T18:05"))]
    # ANSI-coloured capture, seen at 04:00Z: 557 credits; 5h 50% left (09:01 is within 5 h of the
    # capture: today); weekly 85% left (04:01 on 27 Nov).
    res = parse_codex_status("\n".join(body[2:5]), U("2025-11-27T04:00"))
    assert rows(res) == sorted([("credits", "", None, None), ("five_hour", "", 50.0, U("2025-11-27T09:01")), ("weekly", "", 15.0, U("2025-11-27T04:01"))])
    assert not [n for n in res.notes if "stale" in n]
    assert [s.credits for s in res.snapshots if s.window == "credits"] == [557.0]
    # Monthly credit limit 92% left = 8 used, 08:00 on 1 Jul; 100,000 - 7,761 = 92,239 credits left.
    res = parse_codex_status("\n".join(body[5:7]), U("2026-06-15T00:00"))
    assert rows(res) == [("monthly", "credits", 8.0, U("2026-07-01T08:00"))]
    assert res.snapshots[0].credits == 92239.0


def test_codex_no_limits_card() -> None:
    with pytest.raises(QuotaTextError, match="no limit bars"):
        parse_panel("│  >_ OpenAI Codex (v0.50.0) │\n│  Limits:           visit chatgpt.com/codex/settings/usage │", U("2026-01-01T00:00"))


def test_unrelated_text() -> None:
    with pytest.raises(QuotaTextError, match="neither"):
        parse_panel("hello world 42%", U("2026-01-01T00:00"))


def test_reset_forms() -> None:
    cap = U("2025-11-26T10:00")
    assert resolve_reset("Jun 28, 10:40am (UTC)", U("2025-06-28T08:00")).at == U("2025-06-28T10:40")
    assert resolve_reset("in 3 hr 43 min", cap).at == U("2025-11-26T13:43")
    assert resolve_reset("Feb 30", cap).at is None
    assert resolve_reset("9:30am (Mars/Olympus)", cap).note is not None


FRAGMENTS = st.sampled_from(
    ["Current session", "Current week (all models)", "Current week (", "Settings:", "% used", "% left", "Resets ", "(Europe/Vienna)",
     "Dec 2 at 12am", "5h limit:", "Weekly limit:", "[███░░]", "(resets 03:16 on 2 Dec)", "Credits: 3 credits", "\r", "\n", "\x1b[35m",
     "Loading usage data…", "Error:", "99", "12:99pm", "Feb 31", "on 40 Xyz", "█▌", "│", "Monthly credit limit:", "of 1,000 credits used"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=40))
def test_fuzz_text_parsers_never_raise(parts: list[str]) -> None:
    text = "".join(parts)
    for fn in (parse_panel, parse_claude_usage, parse_codex_status):
        try:
            res = fn(text, U("2026-03-01T12:00"))
        except QuotaTextError:
            continue
        for s in res.snapshots:
            assert s.used_percent is None or 0 <= s.used_percent <= 1000


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)))
def test_fuzz_reset_never_raises(text: str, cap: datetime) -> None:
    resolve_reset(text, cap.replace(tzinfo=timezone.utc))


@pytest.mark.parametrize("name", sorted(CLAUDE_CASES))
def test_real_panels_pasted_with_at(name: str, db: Path) -> None:
    """The same real panels through the user's command, ``usage paste --at`` (the capture time
    of each case), stored and read back by ``quota``: the same bars and resets."""
    import json

    from click.testing import CliRunner

    from logscan.cli import cli

    cap, truth = CLAUDE_CASES[name]
    r = CliRunner().invoke(cli, ["usage", "paste", "--at", cap + "Z"], input=(CLAUDE / name).read_text(encoding="utf-8"))
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["query", "-f", "json", "SELECT window_kind AS window, coalesce(scope, '') AS scope, used_percent, resets_at, captured_at FROM quota_snapshots"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert sorted((g["window"], g["scope"], g["used_percent"]) for g in got) == sorted((w, s, u) for w, s, u, _ in truth)
    assert {g["captured_at"][:16] for g in got} == {cap}
    want_resets = sorted(str(at)[:16].replace(" ", "T") if at else "" for *_, at in truth)
    assert sorted((g["resets_at"] or "")[:16].replace(" ", "T") for g in got) == want_resets
