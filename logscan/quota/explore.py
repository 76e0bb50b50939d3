"""``quota plan --explore``: plan with each window's value per percent drawn from what the
readings say about it (Thompson sampling), so a window with few readings still gets tried and
the plan says how sure it is.

**Posterior.** A window's dollars per 1 % is estimated by ``quota.estimate.ratio_estimate``
(ratio of totals over reading intervals, with an interval). Its posterior is taken as normal
with that mean and a standard deviation of (high - low) / 3.92 (the 95 % interval's width); a
window with no estimate yet gets a wide prior: the mean of the known windows' values, with that
same number as its standard deviation. Draws are cut at 1 % of the mean (a value per percent is
positive).

**Decision.** One draw of every window's value, then the greedy knapsack of ``quota.plan.plan``
on the drawn values (Thompson 1933; Russo et al., "A Tutorial on Thompson Sampling", 2018): the
plan proposed is that draw's. Repeating it ``draws`` times gives the expected dollars placed in
subscription windows and a 90 % range, and how often each option comes first. Capacities are
those of ``plan``: a window's remaining share is never exceeded (weekly and 5-hour alike).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from logscan.quota.plan import Allocation, Bar, WindowKey, plan

Z95 = 1.959964


@dataclass
class Posterior:
    mean: float
    sd: float


def posteriors(estimates: dict[WindowKey, Any], keys: list[WindowKey]) -> dict[WindowKey, Posterior]:
    """``estimates``: window -> Estimate (ratio, low, high, n) of dollars per percent."""
    known = {k: e for k, e in estimates.items() if e is not None and e.ratio and e.ratio > 0}
    prior = statistics.mean(e.ratio for e in known.values()) if known else 1.0
    out = {}
    for k in keys:
        e = known.get(k)
        if e is None:
            out[k] = Posterior(prior, prior)
        elif e.low is None or e.high is None:
            out[k] = Posterior(e.ratio, e.ratio)  # one interval: as unsure as a prior around it
        else:
            out[k] = Posterior(e.ratio, max((e.high - e.low) / (2 * Z95), 1e-9))
    return out


@dataclass
class Explored:
    allocations: list[Allocation]  # the plan of one draw: what to do now
    unplaced: float
    reasons: list[str]
    expected_placed: float  # mean over draws of the dollars placed in subscription windows
    placed_range: tuple[float, float]  # 5th and 95th percentile
    first_choice: dict[str, float]  # option -> share of draws in which it is filled first


def explore(budget: float, current: list[Bar], estimates: dict[WindowKey, Any], *, draws: int = 200, seed: int = 0) -> Explored:
    keys = [b.key for b in current if b.used is not None and b.key[1] != "credits"]
    post = posteriors(estimates, keys)
    rng = random.Random(seed)

    def draw() -> dict[WindowKey, float]:
        return {k: max(rng.gauss(p.mean, p.sd), 0.01 * p.mean) for k, p in post.items()}

    allocs, unplaced, reasons = plan(budget, current, draw())
    placed, first = [], {}
    for _ in range(draws):
        a, u, _ = plan(budget, current, draw())
        placed.append(budget - u)
        if a:
            first[a[0].option] = first.get(a[0].option, 0) + 1
    placed.sort()
    lo = placed[int(0.05 * (len(placed) - 1))] if placed else 0.0
    hi = placed[int(0.95 * (len(placed) - 1))] if placed else 0.0
    return Explored(allocs, unplaced, reasons, statistics.mean(placed) if placed else 0.0, (lo, hi),
                    {k: v / draws for k, v in sorted(first.items(), key=lambda kv: -kv[1])})
