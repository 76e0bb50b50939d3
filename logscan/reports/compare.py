"""Two options compared like an experiment: estimates per unit, a bootstrap interval for the
difference and the ratio, and a verdict that stays valid however often it is asked.

**Units and metrics.** A unit is a session (tool + session id) or a UTC day; each unit carries
``(numerator, denominator)`` sums and a metric is the ratio of totals over units:
``cost_per_session`` = cost / units, ``tokens_per_session`` = tokens / units, ``cost_per_call`` =
cost / calls, ``output_per_dollar`` = output tokens / cost, ``percent_per_session`` = percent of
the tool's quota bar / units (each unit's cost over its tool's dollars per 1 %, as ``quota
value`` estimates it). Units with a zero denominator add to neither sum.

**Interval (what to believe now).** A percentile bootstrap over units, each option resampled on
its own (Efron & Tibshirani 1993, ch. 13): usage is heavy-tailed, so no normal shape is assumed.
``B`` resamples, seeded, so the same data give the same interval.

**Verdict (when to stop).** Looking at an ordinary interval after every new session and stopping
at the first one that excludes 0 inflates the error rate far above 5 %. The verdict uses the
always-valid confidence sequence of the mixture sequential probability ratio test (mSPRT) for a
difference of means: Johari, Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous
Monitoring of A/B Tests", Operations Research 70(3), 2022 (after Robbins 1970, and Howard,
Ramdas, McAuliffe & Sekhon, Ann. Statist. 49(2), 2021). With the difference ``d`` of the two
ratio estimates, its variance ``V`` (delta method: the per-unit influence values' variance over
n, per option) and a normal mixing distribution of variance ``tau2``, the interval

    d +- sqrt( V (V + tau2) / tau2 * (2 log(1/alpha) + log((V + tau2) / V)) )

covers the true difference at every sample size at once with probability >= 1 - alpha (exactly
for normal data of known variance; here asymptotically, with the variance estimated).
``tau2`` is set to (10 % of option A's value)^2, the size of difference worth finding; it
changes how soon a verdict comes, not its validity. Before 10 units per option there is no
verdict.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Unit = tuple[float, float]  # (numerator, denominator) of one session or day
METRICS = {
    "cost_per_session": ("cost", "units"),
    "tokens_per_session": ("tokens", "units"),
    "cost_per_call": ("cost", "calls"),
    "output_per_dollar": ("output", "cost"),
    "percent_per_session": ("percent", "units"),  # cost / (the tool's dollars per 1 % of its bar)
}
LOWER_IS_BETTER = {"cost_per_session": True, "tokens_per_session": True, "cost_per_call": True, "output_per_dollar": False,
                   "percent_per_session": True}
MIN_UNITS = 10
EFFECT = 0.10  # the relative difference the mixture is tuned to (and "N more to tell 10 % apart")


def ratio(units: Sequence[Unit]) -> float | None:
    den = sum(d for _, d in units)
    return sum(n for n, _ in units) / den if den else None


def bootstrap(a: Sequence[Unit], b: Sequence[Unit], *, resamples: int = 2000, level: float = 0.95, seed: int = 0
              ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Percentile intervals for (B - A) and (B / A); None when an option has no usable unit."""
    rng = random.Random(seed)
    diffs, ratios = [], []
    for _ in range(resamples):
        ra = ratio(rng.choices(a, k=len(a)))
        rb = ratio(rng.choices(b, k=len(b)))
        if ra is None or rb is None:
            continue
        diffs.append(rb - ra)
        if ra:
            ratios.append(rb / ra)
    if len(diffs) < resamples // 2 or not ratios:
        return None
    return _pct(diffs, level), _pct(ratios, level)


def _pct(xs: list[float], level: float) -> tuple[float, float]:
    xs = sorted(xs)
    lo = xs[int(math.floor((1 - level) / 2 * (len(xs) - 1)))]
    hi = xs[int(math.ceil((1 + level) / 2 * (len(xs) - 1)))]
    return lo, hi


def variance_of_ratio(units: Sequence[Unit]) -> float | None:
    """Delta-method variance of sum(num)/sum(den): var of the influence values over n."""
    n = len(units)
    r = ratio(units)
    if r is None or n < 2:
        return None
    mean_den = sum(d for _, d in units) / n
    infl = [(x - r * d) / mean_den for x, d in units]
    return statistics.variance(infl) / n


def always_valid_interval(d: float, v: float, tau2: float, alpha: float = 0.05) -> tuple[float, float]:
    """The mSPRT confidence sequence at one look (Johari et al. 2022, normal mixture)."""
    if v <= 0:
        return d, d
    half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log((v + tau2) / v)))
    return d - half, d + half


@dataclass
class Comparison:
    metric: str
    n_a: int
    n_b: int
    est_a: float | None
    est_b: float | None
    diff_ci: tuple[float, float] | None  # bootstrap, B - A
    ratio_ci: tuple[float, float] | None  # bootstrap, B / A
    seq_ci: tuple[float, float] | None  # always valid, B - A
    verdict: str
    more_needed: int | None = None


def compare(a: Sequence[Unit], b: Sequence[Unit], metric: str, *, unit: str = "session", resamples: int = 2000, level: float = 0.95,
            seed: int = 0) -> Comparison:
    ua = [u for u in a if u[1]]
    ub = [u for u in b if u[1]]
    ra, rb = ratio(ua), ratio(ub)
    boot = bootstrap(ua, ub, resamples=resamples, level=level, seed=seed) if ua and ub else None
    c = Comparison(metric, len(ua), len(ub), ra, rb, boot[0] if boot else None, boot[1] if boot else None, None, "")
    if ra is None or rb is None:
        c.verdict = f"no data for {'A' if ra is None else 'B'}: nothing to compare"
        return c
    va, vb = variance_of_ratio(ua), variance_of_ratio(ub)
    tau2 = (EFFECT * abs(ra)) ** 2 or 1e-12
    if va is None or vb is None or min(len(ua), len(ub)) < MIN_UNITS:
        c.more_needed = _more_needed(ua, ub, ra, tau2, 1 - level)
        c.verdict = f"not enough data yet: at least {MIN_UNITS} {unit}s each (have {len(ua)} vs {len(ub)})"
        return c
    lo, hi = always_valid_interval(rb - ra, va + vb, tau2, 1 - level)
    c.seq_ci = (lo, hi)
    if lo > 0 or hi < 0:
        rel_lo, rel_hi = sorted((lo / abs(ra), hi / abs(ra)))
        better = (hi < 0) == LOWER_IS_BETTER[metric]
        word = {"cost_per_session": ("cheaper", "dearer"), "tokens_per_session": ("leaner", "heavier"), "cost_per_call": ("cheaper", "dearer"),
                "output_per_dollar": ("more productive", "less productive"),
                "percent_per_session": ("lighter on its quota", "heavier on its quota")}[metric][0 if better else 1]
        span = f"{min(abs(rel_lo), abs(rel_hi)) * 100:.0f}-{max(abs(rel_lo), abs(rel_hi)) * 100:.0f} %"
        c.verdict = f"B is {word} per {metric.split('_per_')[-1]} by {span} ({level * 100:.0f} %, {len(ua)} vs {len(ub)} {unit}s; always valid)"
    else:
        c.more_needed = _more_needed(ua, ub, ra, tau2, 1 - level)
        c.verdict = (f"not enough data yet: about {c.more_needed} more {unit}s each to tell a {EFFECT * 100:.0f} % difference apart"
                     if c.more_needed is not None else "no difference found")
    return c


def _more_needed(a: Sequence[Unit], b: Sequence[Unit], ra: float, tau2: float, alpha: float) -> int | None:
    """How many more units per option until the always-valid half-width is below 10 % of A's
    value, at the variances seen so far (a plan, not a promise)."""
    per = [x for x in (variance_of_ratio(a), variance_of_ratio(b)) if x is not None]
    if not per:
        return None
    s2 = statistics.mean(v * n for v, n in zip(per, (len(a), len(b)), strict=False))  # per-unit variance
    target = EFFECT * abs(ra)

    def wide(n: int) -> bool:
        lo, hi = always_valid_interval(0.0, 2 * s2 / n, tau2, alpha)
        return (hi - lo) / 2 >= target

    n_now = max(min(len(a), len(b)), 2)
    lo_n, hi_n = n_now, n_now
    while wide(hi_n):
        lo_n, hi_n = hi_n, hi_n * 2
        if hi_n > 10**8:
            return None
    while lo_n < hi_n:  # the smallest n that is narrow enough
        mid = (lo_n + hi_n) // 2
        lo_n, hi_n = (mid + 1, hi_n) if wide(mid) else (lo_n, mid)
    return max(hi_n - min(len(a), len(b)), 0)
