"""What one percent of a quota bar is worth, from consecutive snapshots.

For one window (tool, window kind, scope) the snapshots are ordered by time; each consecutive
pair inside one reset period is an interval i with a percent delta y_i and the usage x_i logged
in between (tokens, or API-equivalent dollars). The ratio-of-totals estimator is

    R = sum(x_i) / sum(y_i)

and its standard error by the delta method (as for a survey ratio estimator) is

    se(R) = sqrt( sum((x_i - R*y_i)^2) / (n (n-1)) ) / mean(y)

with a Student t interval on n-1 degrees of freedom. Intervals where the bar did not move still
count (their usage is real); intervals across a reset, or where the bar went down, are dropped.
Usage made elsewhere (claude.ai in a browser, another machine) moves the bar without showing in
the logs, which biases R downwards: the output says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

MIN_INTERVALS = 3
RESET_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    dp: float  # percent points used in between (>= 0)


@dataclass(frozen=True)
class Estimate:
    ratio: float | None
    low: float | None
    high: float | None
    n: int
    reason: str | None = None  # why there is no estimate


def t_quantile(p: float, df: int) -> float:
    """Student t quantile by the Cornish-Fisher expansion (exact enough for df >= 3; for df 1
    and 2 the closed forms)."""
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        a = 4 * p * (1 - p)
        return (2 * p - 1) * math.sqrt(2 / a)
    z = NormalDist().inv_cdf(p)
    v = float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def ratio_estimate(xs: Sequence[float], ys: Sequence[float], level: float = 0.95) -> Estimate:
    n = len(xs)
    if n < MIN_INTERVALS:
        return Estimate(None, None, None, n, f"only {n} interval(s) between snapshots; need at least {MIN_INTERVALS}")
    sy = sum(ys)
    if sy <= 0:
        return Estimate(None, None, None, n, "the bar never moved between snapshots")
    r = sum(xs) / sy
    ybar = sy / n
    ss = sum((x - r * y) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(ss / (n * (n - 1))) / ybar
    t = t_quantile(0.5 + level / 2, n - 1)
    return Estimate(r, max(r - t * se, 0.0), r + t * se, n)


def intervals(snaps: Sequence[dict[str, Any]]) -> list[Interval]:
    """Consecutive pairs of one window's snapshots (sorted by captured_at) inside one period."""
    out: list[Interval] = []
    seen: set[datetime] = set()
    prev: dict[str, Any] | None = None
    for s in snaps:
        if s.get("used_percent") is None or s["captured_at"] in seen:
            continue
        seen.add(s["captured_at"])
        if prev is not None:
            same = _same_period(prev, s)
            dp = float(s["used_percent"]) - float(prev["used_percent"])
            if same and dp >= 0:
                out.append(Interval(prev["captured_at"], s["captured_at"], dp))
        prev = s
    return out


def _same_period(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ra, rb = a.get("resets_at"), b.get("resets_at")
    if ra is not None and rb is not None:
        return bool(abs(ra - rb) <= RESET_SLACK) and b["captured_at"] < ra + RESET_SLACK
    if ra is not None and b["captured_at"] >= ra:
        return False
    minutes = a.get("window_minutes") or 300
    return bool(b["captured_at"] - a["captured_at"] < timedelta(minutes=minutes))
