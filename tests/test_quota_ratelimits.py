"""Structured readings: Codex rate_limits (every version of FORMATS.md 3.3), Claude limit notices
(1.7, every string in the corpus file) and the statusline's rate_limits (1.8). Truths are the
numbers written in each input, reset = line time + relative seconds or the epoch given."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from logscan.quota.ratelimits import claude_limit_snapshots, codex_rate_limits
from logscan.quota.statusline import extract

NOTICES = Path(__file__).parent / "fixtures" / "quota" / "real" / "claude-usage-text" / "limit_messages_seen_in_transcripts_and_tui.txt"
TS = "2025-10-01T10:00:00.000Z"
T0 = datetime(2025, 10, 1, 10, tzinfo=timezone.utc)


def got(snaps):
    return sorted((s.window, s.scope or "", s.used_percent, s.resets_at, s.window_minutes) for s in snaps)


def test_codex_v1_flat() -> None:
    rl = {"primary_used_percent": 12.5, "secondary_used_percent": 40.0, "primary_to_secondary_ratio_percent": 75.0,
          "primary_window_minutes": 300, "secondary_window_minutes": 10080, "primary_reset_after_seconds": 600}
    assert got(codex_rate_limits(rl, TS)) == [("five_hour", "", 12.5, T0 + timedelta(seconds=600), 300), ("weekly", "", 40.0, None, 10080)]
    # without window lengths the slot alone says nothing: nothing is recorded
    assert codex_rate_limits({"primary_used_percent": 5, "secondary_used_percent": 9}, TS) == []


def test_codex_v2_relative_and_odd_minutes() -> None:
    rl = {"primary": {"used_percent": 0.0, "window_minutes": 299, "resets_in_seconds": 17388},
          "secondary": {"used_percent": 7.0, "window_minutes": 10079, "resets_in_seconds": 491245}}
    assert got(codex_rate_limits(rl, TS)) == [
        ("five_hour", "", 0.0, T0 + timedelta(seconds=17388), 299), ("weekly", "", 7.0, T0 + timedelta(seconds=491245), 10079)]


def test_codex_v3_epoch_credits_plan() -> None:
    rl = {"primary": {"used_percent": 31.0, "window_minutes": 300, "resets_at": 1759320000},
          "secondary": {"used_percent": 12.0, "window_minutes": 10080, "resets_at": 1759800000},
          "credits": {"has_credits": True, "unlimited": False, "balance": "17.5"}, "plan_type": "plus"}
    snaps = codex_rate_limits(rl, TS)
    assert got(s for s in snaps if s.window != "credits") == [
        ("five_hour", "", 31.0, datetime.fromtimestamp(1759320000, timezone.utc), 300),
        ("weekly", "", 12.0, datetime.fromtimestamp(1759800000, timezone.utc), 10080)]
    assert [(s.credits, s.plan) for s in snaps if s.window == "credits"] == [(17.5, "plus")]


def test_codex_v4_weekly_in_primary_slot_and_monthly() -> None:
    # 2026: the 5-hour limit suspended, so primary is the weekly window; never classify by slot.
    rl = {"primary": {"used_percent": 64.0, "window_minutes": 10080, "resets_at": 1790000000}, "secondary": None,
          "limit_id": "codex", "limit_name": None, "individual_limit": None, "rate_limit_reached_type": None}
    assert got(codex_rate_limits(rl, TS)) == [("weekly", "", 64.0, datetime.fromtimestamp(1790000000, timezone.utc), 10080)]
    rl = {"primary": {"used_percent": 3.0, "window_minutes": 43800, "resets_at": 1790000000}, "limit_id": "codex_bengalfox", "limit_name": "GPT-5.3-Codex-Spark"}
    assert got(codex_rate_limits(rl, TS)) == [("monthly", "GPT-5.3-Codex-Spark", 3.0, datetime.fromtimestamp(1790000000, timezone.utc), 43800)]


def test_codex_null_and_placeholder() -> None:
    assert codex_rate_limits(None, TS) == []
    assert codex_rate_limits({"primary": None, "secondary": None}, TS) == []
    assert codex_rate_limits({"primary": {"used_percent": 0.0, "window_minutes": 300}}, TS) == []  # zero placeholder


def _notice(text: str, **extra) -> dict:
    return {"type": "assistant", "timestamp": TS, "isApiErrorMessage": True,
            "message": {"model": "<synthetic>", "content": [{"type": "text", "text": text}], "usage": {"input_tokens": 0, "output_tokens": 0}}, **extra}


def test_every_limit_string_in_the_corpus() -> None:
    lines = [ln for ln in NOTICES.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    out = {ln: got(claude_limit_snapshots(_notice(ln))) for ln in lines}
    # Read by hand; line time 2025-10-01 10:00Z, tests' local zone UTC.
    d = lambda h, m=0, day=1: datetime(2025, 10, day, h, m, tzinfo=timezone.utc)  # noqa: E731
    assert out["Claude AI usage limit reached|1790000000"] == [("five_hour", "", 100.0, datetime.fromtimestamp(1790000000, timezone.utc), 300)]
    assert out["5-hour limit reached ∙ resets 3pm"] == [("five_hour", "", 100.0, d(15), 300)]
    assert out["5-hour limit reached ∙ resets 9:30am"] == [("five_hour", "", 100.0, d(9, 30, 2), 300)]
    assert out["5-hour limit reached ∙ resets 12:30 AM"] == [("five_hour", "", 100.0, d(0, 30, 2), 300)]
    assert out["Approaching 5-hour limit"] == [] and out["Approaching usage limit resets at 3pm"] == []
    assert out["weekly limit reached"] == [("weekly", "", 100.0, None, 10080)]
    # "your limit" with a reset 12 h away (10pm London = 21:00Z) cannot be the 5-hour window.
    assert out["You've hit your limit · resets 10pm (Europe/London)"] == [("weekly", "", 100.0, d(21), 10080)]
    assert out["You've hit your limit · resets 9:30am"] == [("weekly", "", 100.0, d(9, 30, 2), 10080)]
    assert out["You've hit your session limit · resets 11:20am (Europe/Budapest)"] == [("five_hour", "", 100.0, d(9, 20, 2), 300)]
    assert out["You've hit your session limit · resets 8:30pm (Asia/Tokyo)"] == [("five_hour", "", 100.0, d(11, 30), 300)]
    assert out["You've hit your session limit · resets 12:50am (America/Bogota)"] == [("five_hour", "", 100.0, d(5, 50, 2), 300)]
    assert out["You've hit your session limit · resets 12:50am (America/Los_Angeles)"] == [("five_hour", "", 100.0, d(7, 50, 2), 300)]
    assert out["You've hit your session limit · resets 5:10pm (Europe/Paris)"] == [("five_hour", "", 100.0, d(15, 10), 300)]
    assert out["You've hit your session limit · resets 3:45pm"] == [("five_hour", "", 100.0, d(15, 45), 300)]
    assert len(out) == 15


def test_quota_limits_object_wins_over_text() -> None:
    obj = _notice("You've hit your session limit · resets 2pm (Europe/Helsinki)",
                  quotaLimits={"status": "rejected", "resetsAt": 1790161200, "rateLimitType": "five_hour", "overageStatus": "rejected"},
                  error="rate_limit", apiErrorStatus=429)
    assert got(claude_limit_snapshots(obj)) == [("five_hour", "", 100.0, datetime.fromtimestamp(1790161200, timezone.utc), 300)]


def test_billed_lines_are_not_notices() -> None:
    obj = _notice("5-hour limit reached ∙ resets 3pm")
    obj["message"]["model"] = "claude-sonnet-4-5"
    assert claude_limit_snapshots(obj) == []


def test_statusline_rate_limits() -> None:
    obj = {"rate_limits": {"five_hour": {"used_percentage": 23.5, "resets_at": 1790000000},
                           "seven_day": {"used_percentage": 41, "resets_at": 1790400000},
                           "model_scoped": [{"display_name": "Fable", "utilization": 12, "resets_at": 1790400000}]}}
    r = extract(obj, 1789990000.0)
    assert sorted((x["window"], x["scope"] or "", x["used_percent"], x["resets_at"]) for x in r) == [
        ("five_hour", "", 23.5, 1790000000.0), ("weekly", "", 41.0, 1790400000.0), ("weekly_model", "Fable", 12.0, 1790400000.0)]
    sample = Path(__file__).parent / "fixtures" / "claude-code" / "real" / "ccusage_statusline_stdin_v1.0.88.json"
    import json

    assert extract(json.loads(sample.read_text()), 0.0) == []  # v1.0.88 has no rate_limits


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                        ["primary", "secondary", "used_percent", "window_minutes", "resets_at", "resets_in_seconds", "credits", "balance",
                         "has_credits", "primary_used_percent", "primary_window_minutes", "five_hour", "seven_day", "used_percentage",
                         "model_scoped", "display_name", "utilization", "quotaLimits", "rateLimitType", "status", "resetsAt", "message",
                         "content", "text", "model", "timestamp"]), c, max_size=6), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_structured_never_raise(v: object) -> None:
    codex_rate_limits(v, TS)
    claude_limit_snapshots(v)
    if isinstance(v, dict):
        claude_limit_snapshots({**v, "timestamp": TS, "message": {"model": "<synthetic>", "content": str(v)[:200]}})
    extract({"rate_limits": v}, 1e9)


def _backfill(root: Path, db: Path) -> list[tuple]:
    from logscan.ingest.ingestor import Ingestor
    from logscan.store.store import Store

    with Store.open(db) as s:
        Ingestor(s).run([root])
        return s.query("SELECT tool, window_kind, used_percent, epoch(resets_at)::BIGINT, source FROM quota_snapshots ORDER BY 1, 2, 3")[1]


def test_rollout_and_transcript_readings_reach_the_store(tmp_path: Path, db: Path) -> None:
    import json

    # A rollout (hand-written) with the same v3 reading on two token_counts (kept once) and a later one.
    rollout = tmp_path / "home" / ".codex" / "sessions" / "2026" / "01" / "05" / "rollout-2026-01-05T10-00-00-0199aaaa-0000-7000-8000-000000000001.jsonl"
    rollout.parent.mkdir(parents=True)
    meta = {"timestamp": "2026-01-05T10:00:00.000Z", "type": "session_meta", "payload": {"id": "0199aaaa-0000-7000-8000-000000000001", "cli_version": "0.60.0", "cwd": "/p"}}
    def tc(ts: str, total: int, pct: float) -> dict:
        u = {"input_tokens": total, "cached_input_tokens": 0, "output_tokens": 10, "reasoning_output_tokens": 0, "total_tokens": total + 10}
        return {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": u, "last_token_usage": u},
                "rate_limits": {"primary": {"used_percent": pct, "window_minutes": 300, "resets_at": 1767621600}, "secondary": None}}}
    lines = [meta, {"timestamp": "2026-01-05T10:00:01.000Z", "type": "turn_context", "payload": {"model": "gpt-5"}},
             tc("2026-01-05T10:01:00.000Z", 100, 10.0), tc("2026-01-05T10:02:00.000Z", 200, 10.0), tc("2026-01-05T10:03:00.000Z", 300, 12.0)]
    rollout.write_text("".join(json.dumps(x) + "\n" for x in lines))
    # A transcript with a 2026 session-limit notice carrying quotaLimits.
    tr = tmp_path / "home" / ".claude" / "projects" / "-p" / "s1.jsonl"
    tr.parent.mkdir(parents=True)
    notice = _notice("You've hit your session limit · resets 2pm (Europe/Helsinki)", sessionId="s1", uuid="u1", parentUuid=None,
                     quotaLimits={"status": "rejected", "resetsAt": 1767621600, "rateLimitType": "five_hour"})
    tr.write_text(json.dumps(notice) + "\n")
    rows = _backfill(tmp_path / "home", db)
    assert rows == [("claude-code", "five_hour", 100.0, 1767621600, "transcript"),
                    ("codex", "five_hour", 10.0, 1767621600, "rollout"), ("codex", "five_hour", 12.0, 1767621600, "rollout")]
    assert _backfill(tmp_path / "home", db) == rows  # a re-run adds nothing
