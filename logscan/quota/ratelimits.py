"""Structured quota readings inside logs: Codex ``rate_limits`` (every version in FORMATS.md
section 3.3) and Claude Code limit notices in transcripts (section 1.7).

Codex windows are classified by ``window_minutes``, never by the primary/secondary slot: since
mid-2026 ``primary`` can be the weekly window. Relative ``resets_in_seconds`` /
``*_reset_after_seconds`` count from the line's timestamp. Nothing here raises on bad input: a
reading that cannot be understood is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from logscan.models import QuotaSnapshot, make_id
from logscan.quota.text import codex_window
from logscan.quota.timeparse import resolve_reset

MAX_EPOCH = 4_102_444_800  # 2100-01-01: anything later is not a reset time


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if f == f and abs(f) != float("inf") else None


def _epoch(v: Any) -> datetime | None:
    f = _num(v)
    if f is None or not (0 < f < MAX_EPOCH):
        return None
    return datetime.fromtimestamp(int(f), tz=timezone.utc)


def _ts(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
    if not isinstance(v, str):
        return None
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


# -- Codex ------------------------------------------------------------------------------------
def codex_rate_limits(rl: Any, line_ts: Any, *, path: str | None = None, offset: int | None = None) -> list[QuotaSnapshot]:
    """Snapshots from one ``token_count`` event's ``rate_limits`` object (any version)."""
    ts = _ts(line_ts)
    if not isinstance(rl, dict) or ts is None:
        return []
    try:
        return list(_codex(rl, ts, path, offset))
    except (ValueError, TypeError, OverflowError):
        return []


def _codex(rl: dict[str, Any], ts: datetime, path: str | None, offset: int | None) -> Iterator[QuotaSnapshot]:
    plan = rl.get("plan_type") if isinstance(rl.get("plan_type"), str) else None
    limit_id, limit_name = rl.get("limit_id"), rl.get("limit_name")
    scope = None
    if isinstance(limit_id, str) and limit_id and limit_id != "codex":
        scope = limit_name if isinstance(limit_name, str) and limit_name else limit_id
    windows: list[tuple[Any, Any, datetime | None, bool]] = []  # (percent, minutes, reset, reset is absolute)
    # Version 1 (~Aug 2025): flat fields, relative resets when present.
    for slot in ("primary", "secondary"):
        if f"{slot}_used_percent" in rl:
            after = _num(rl.get(f"{slot}_reset_after_seconds"))
            reset = ts + timedelta(seconds=after) if after is not None and 0 <= after < 1e9 else None
            windows.append((rl.get(f"{slot}_used_percent"), rl.get(f"{slot}_window_minutes"), reset, False))
    # Versions 2-4: {"used_percent", "window_minutes", "resets_in_seconds" | "resets_at"} per slot.
    for slot in ("primary", "secondary"):
        w = rl.get(slot)
        if not isinstance(w, dict):
            continue
        reset = _epoch(w.get("resets_at"))
        absolute = reset is not None
        if reset is None and (secs := _num(w.get("resets_in_seconds"))) is not None and 0 <= secs < 1e9:
            reset = ts + timedelta(seconds=secs)
        windows.append((w.get("used_percent"), w.get("window_minutes"), reset, absolute))
    for pct_v, mins_v, reset, absolute in windows:
        pct, mins = _num(pct_v), _num(mins_v)
        if pct is None or mins is None or mins <= 0 or not (0 <= pct <= 1000):
            continue  # no window length: the slot alone says nothing about which window it is
        if pct == 0 and reset is None:
            continue  # the all-zero placeholder Codex emits after real readings
        window = codex_window(int(mins))
        # Codex repeats the reading on every token_count, and forks and thread_spawn subagents
        # copy the parent's rows with new timestamps. With an absolute reset the reading itself
        # (value, period) is the id: the first observation is kept, copies and repeats add nothing.
        sid = make_id("quota-rollout", "codex", window, scope, pct, reset.replace(microsecond=0).isoformat()) if absolute and reset else 0
        yield QuotaSnapshot(
            snapshot_id=sid,
            tool="codex",
            window=window,
            scope=scope,
            used_percent=pct,
            resets_at=reset.replace(microsecond=0) if reset else None,
            captured_at=ts,
            source="rollout",
            window_minutes=int(mins),
            plan=plan,
            source_path=path,
            source_offset=offset,
        )
    credits = rl.get("credits")
    if isinstance(credits, dict) and credits.get("has_credits") is True and credits.get("unlimited") is not True:
        bal = credits.get("balance")
        try:
            value = float(bal) if isinstance(bal, (str, int, float)) and not isinstance(bal, bool) else None
        except ValueError:
            value = None
        if value is not None and value == value and abs(value) < 1e15:
            yield QuotaSnapshot(
                tool="codex", window="credits", scope=scope, credits=value, captured_at=ts, source="rollout", plan=plan,
                source_path=path, source_offset=offset,
            )


# -- Claude Code transcripts -------------------------------------------------------------------
LEGACY_RE = re.compile(r"usage\s+limit\s+reached\|(\d{9,11})", re.I)
HIT_RE = re.compile(
    r"(?P<what>5-hour\s+limit|session\s+limit|weekly\s+limit|opus\s+(?:weekly\s+)?limit|sonnet\s+(?:weekly\s+)?limit|your\s+limit|usage\s+limit)"
    r"\s*(?:reached|hit)?",
    re.I,
)
REACHED_RE = re.compile(r"limit\s+reached|hit\s+your\s+", re.I)
RESET_TEXT_RE = re.compile(r"\bresets?\s*(?:at\s+)?(?P<rest>[^∙·•|\n]{1,60})", re.I)
QUOTA_TYPES = {
    "five_hour": ("five_hour", None, 300),
    "seven_day": ("weekly", None, 10080),
    "seven_day_opus": ("weekly_model", "Opus", 10080),
    "seven_day_sonnet": ("weekly_model", "Sonnet only", 10080),
}


def _texts(msg: Any) -> Iterator[str]:
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, str):
        yield content[:2000]
    elif isinstance(content, list):
        for block in content[:20]:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                yield block["text"][:2000]


def claude_limit_snapshots(obj: Any, path: str | None = None, offset: int | None = None) -> list[QuotaSnapshot]:
    """Snapshots from one transcript line if it is a limit notice (model ``<synthetic>``) or
    carries a ``quotaLimits`` object; prefer the epoch fields over the wall-clock text."""
    if not isinstance(obj, dict):
        return []
    ts = _ts(obj.get("timestamp"))
    if ts is None:
        return []
    try:
        return _claude(obj, ts, path, offset)
    except (ValueError, TypeError, OverflowError):
        return []


def _claude(obj: dict[str, Any], ts: datetime, path: str | None, offset: int | None) -> list[QuotaSnapshot]:
    msg = obj.get("message") if isinstance(obj.get("message"), dict) else {}
    ql = obj.get("quotaLimits", msg.get("quotaLimits"))
    out: list[QuotaSnapshot] = []

    def snap(window: str, scope: str | None, minutes: int | None, pct: float, reset: datetime | None, zone: str | None = None) -> QuotaSnapshot:
        return QuotaSnapshot(
            tool="claude-code", window=window, scope=scope, used_percent=pct, resets_at=reset, captured_at=ts,
            source="transcript", window_minutes=minutes, zone_assumed=zone, source_path=path, source_offset=offset,
        )

    if isinstance(ql, dict):
        kind = QUOTA_TYPES.get(str(ql.get("rateLimitType")))
        pct = 100.0 if ql.get("status") == "rejected" else _num(ql.get("utilization"))
        if kind and pct is not None and 0 <= pct <= 1000:
            out.append(snap(kind[0], kind[1], kind[2], pct, _epoch(ql.get("resetsAt"))))
        return out
    if msg.get("model") != "<synthetic>":
        return out
    for text in _texts(msg):
        if m := LEGACY_RE.search(text):
            out.append(snap("five_hour", None, 300, 100.0, _epoch(int(m.group(1)))))
            continue
        if not REACHED_RE.search(text):
            continue  # "Approaching 5-hour limit" says no number
        hit = HIT_RE.search(text)
        if hit is None:
            continue
        what = hit["what"].lower()
        reset, zone = None, None
        if r := RESET_TEXT_RE.search(text):
            res = resolve_reset(r["rest"], ts)
            reset, zone = res.at, res.zone_assumed if res.at else None
        if what.startswith(("5-hour", "session")):
            window, scope, minutes = "five_hour", None, 300
        elif what.startswith("opus"):
            window, scope, minutes = "weekly_model", "Opus", 10080
        elif what.startswith("sonnet"):
            window, scope, minutes = "weekly_model", "Sonnet only", 10080
        elif what.startswith("weekly"):
            window, scope, minutes = "weekly", None, 10080
        else:
            # "You've hit your limit": the text does not say which; a reset within five hours
            # can only be the session window's, a later one is taken as the weekly window's.
            if reset is not None and reset - ts <= timedelta(hours=5, minutes=5):
                window, scope, minutes = "five_hour", None, 300
            else:
                window, scope, minutes = "weekly", None, 10080
        out.append(snap(window, scope, minutes, 100.0, reset, zone))
    return out
