"""Current bars with a burn-rate forecast, value per percent per window, and a greedy plan for
the next N dollars-equivalent of work."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from logscan.quota.estimate import Estimate, intervals, ratio_estimate

WindowKey = tuple[str, str, str | None]  # tool, window kind, scope


def _utc(d: datetime | None) -> datetime | None:
    return None if d is None else (d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d)


def group(snaps: list[dict[str, Any]]) -> dict[WindowKey, list[dict[str, Any]]]:
    out: dict[WindowKey, list[dict[str, Any]]] = defaultdict(list)
    for s in snaps:
        s = {**s, "captured_at": _utc(s["captured_at"]), "resets_at": _utc(s.get("resets_at"))}
        out[(s["tool"], s["window_kind"], s["scope"])].append(s)
    for v in out.values():
        v.sort(key=lambda s: s["captured_at"])
    return dict(out)


@dataclass
class Bar:
    key: WindowKey
    used: float | None
    credits: float | None
    captured_at: datetime
    resets_at: datetime | None
    source: str
    rate_per_h: float | None = None  # percent points per hour in the current period
    projected: float | None = None  # estimated now
    hits_at: datetime | None = None
    note: str = ""


def time_left(reset: datetime | None, now: datetime) -> str:
    """Until a bar resets, as people read it: "2d 5h", "3h 07m"; "passed"; "" without a reset."""
    if reset is None:
        return ""
    s = (reset - now).total_seconds()
    if s <= 0:
        return "passed"
    m = int(s // 60)
    return f"{m // 1440}d {m % 1440 // 60}h" if m >= 1440 else f"{m // 60}h {m % 60:02d}m"


def bars(groups: dict[WindowKey, list[dict[str, Any]]], now: datetime) -> list[Bar]:
    out = []
    for key, snaps in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        last = snaps[-1]
        b = Bar(key, last.get("used_percent"), last.get("credits"), last["captured_at"], last.get("resets_at"), last["source"])
        if b.used is None:
            out.append(b)
            continue
        if b.resets_at is not None and b.resets_at <= now:
            b.note = "reset since this reading (probably near 0% now)"
            out.append(b)
            continue
        # Burn rate: the slope over this reset period's readings (at least 10 minutes apart).
        period = [s for s in snaps if s.get("used_percent") is not None and _same_reset(s, last)]
        first = period[0]
        span_h = (last["captured_at"] - first["captured_at"]).total_seconds() / 3600
        if span_h >= 1 / 6 and last["used_percent"] >= first["used_percent"]:
            b.rate_per_h = (last["used_percent"] - first["used_percent"]) / span_h
            elapsed_h = max((now - b.captured_at).total_seconds() / 3600, 0.0)
            b.projected = min(b.used + b.rate_per_h * elapsed_h, 100.0)
            if b.rate_per_h > 0 and b.used < 100:
                b.hits_at = b.captured_at + timedelta(hours=(100 - b.used) / b.rate_per_h)
            if b.used >= 100:
                b.note = "limit reached"
            elif b.hits_at and (b.resets_at is None or b.hits_at < b.resets_at):
                b.note = "will hit the limit before the reset at this pace"
            elif b.rate_per_h > 0:
                b.note = "lasts until the reset at this pace"
            else:
                b.note = "not moving"
        else:
            b.note = "100% used" if b.used >= 100 else "one reading in this period: no burn rate yet"
        out.append(b)
    return out


def _same_reset(s: dict[str, Any], last: dict[str, Any]) -> bool:
    a, b = s.get("resets_at"), last.get("resets_at")
    if a is None or b is None:
        return bool(last["captured_at"] - s["captured_at"] < timedelta(hours=5))
    return bool(abs(a - b) <= timedelta(minutes=10))


@dataclass
class Value:
    key: WindowKey
    tokens: Estimate
    dollars: Estimate
    unpriced_events: int = 0


def values(db: Path, groups: dict[WindowKey, list[dict[str, Any]]], level: float = 0.95) -> list[Value]:
    from logscan.quota.storage import interval_usage

    todo: list[tuple[WindowKey, list[Any]]] = []
    bounds = []
    for key, snaps in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        if all(s.get("used_percent") is None for s in snaps):
            continue
        ivs = intervals(snaps)
        todo.append((key, ivs))
        bounds += [(key[0], key[2], iv.start.replace(tzinfo=None), iv.end.replace(tzinfo=None)) for iv in ivs]
    usage = interval_usage(db, bounds)
    out = []
    pos = 0
    for key, ivs in todo:
        u = usage[pos : pos + len(ivs)]
        pos += len(ivs)
        ys = [iv.dp for iv in ivs]
        tok = ratio_estimate([float(t) for t, _, _ in u], ys, level)
        dol = ratio_estimate([c or 0.0 for _, c, _ in u], ys, level)
        out.append(Value(key, tok, dol, sum(n for _, _, n in u)))
    return out


@dataclass
class Allocation:
    option: str
    dollars: float
    binding: str
    usd_per_pct: float
    pct_used: dict[str, float] = field(default_factory=dict)


def plan(budget: float, current: list[Bar], vals: dict[WindowKey, float]) -> tuple[list[Allocation], float, list[str]]:
    """Greedy fractional knapsack. Options are "a tool" (bound by its unscoped windows) and "a
    tool on one model" (also bound by that model's window). Each option's worth is the dollars
    one percent of its binding (scarcest) window buys; options are filled best first, and shared
    windows are debited as they are used. Returns (allocations, unplaced dollars, reasoning)."""
    left: dict[WindowKey, float] = {}
    resets: dict[WindowKey, datetime | None] = {}
    for b in current:
        if b.used is None or b.key[1] == "credits":
            continue
        used = 0.0 if b.note.startswith("reset since") else (b.projected if b.projected is not None else b.used)
        left[b.key] = max(100.0 - used, 0.0)
        resets[b.key] = b.resets_at
    reasons: list[str] = []
    options: dict[str, list[WindowKey]] = {}
    for key in left:
        tool, _, scope = key
        general = [k for k in left if k[0] == tool and k[2] is None]
        options.setdefault(tool, general)
        if scope is not None:
            options[f"{tool} ({scope})"] = general + [key]
    for name, keys in list(options.items()):
        missing = [k for k in keys if k not in vals]
        if missing:
            reasons.append(f"{name}: no value per percent for {', '.join(_label(k) for k in missing)} yet; left out")
            del options[name]
    remaining = budget
    allocs: list[Allocation] = []
    while remaining > 1e-9:
        best = None
        for name, keys in options.items():
            if not keys:
                continue
            cap = min(left[k] * vals[k] for k in keys)
            if cap <= 1e-9:
                continue
            bind = min(keys, key=lambda k: left[k] * vals[k])
            worth = min(vals[k] for k in keys)
            soon = min((resets[k] for k in keys if resets[k]), default=None)
            rank = (worth, -(soon.timestamp() if soon else 1e12))
            if best is None or rank > best[0]:
                best = (rank, name, keys, cap, bind, worth)
        if best is None:
            break
        _, name, keys, cap, bind, worth = best
        take = min(cap, remaining)
        pct = {_label(k): take / vals[k] for k in keys}
        for k in keys:
            left[k] -= take / vals[k]
        allocs.append(Allocation(name, take, _label(bind), worth, pct))
        reasons.append(
            f"{name}: 1% of its scarcest window ({_label(bind)}) buys ${worth:,.2f} of API-priced work, the most among the options left; "
            f"${take:,.2f} placed there" + (" (all it has before the reset)" if take >= cap - 1e-9 else "")
        )
        remaining -= take
    if remaining > 1e-9:
        reasons.append(f"${remaining:,.2f} does not fit in any remaining subscription window: it would be billed at API prices")
    return allocs, max(remaining, 0.0), reasons


def _label(k: WindowKey) -> str:
    return f"{k[0]} {k[1]}" + (f" ({k[2]})" if k[2] else "")
