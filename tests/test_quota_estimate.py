"""The ratio-of-totals estimator and its interval, on synthetic data with a known true ratio."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from logscan.quota.estimate import intervals, ratio_estimate, t_quantile


def test_t_quantile_against_tables() -> None:
    # Student t 97.5% quantiles from standard tables.
    for df, q in [(1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (10, 2.228), (30, 2.042), (120, 1.980)]:
        assert abs(t_quantile(0.975, df) - q) < 0.01 * q


def test_exact_on_noise_free_data() -> None:
    est = ratio_estimate([2000.0, 4000.0, 0.0, 6000.0], [1.0, 2.0, 0.0, 3.0])
    assert est.ratio == 2000.0 and est.low == est.high == 2000.0 and est.n == 4


def test_too_few_and_flat() -> None:
    assert ratio_estimate([1.0, 2.0], [1.0, 1.0]).reason.startswith("only 2 interval")
    assert "never moved" in (ratio_estimate([5.0, 5.0, 5.0], [0.0, 0.0, 0.0]).reason or "")


def test_interval_coverage_near_nominal() -> None:
    # True ratio R: x_i = R * y_i * m_i with E[m] = 1 independent of y, so E[x]/E[y] = R. Percent
    # deltas are skewed (many small moves, a few large); 400 trials of 25 intervals each.
    rng = random.Random(20261123)
    R, trials, hits = 5000.0, 400, 0
    for _ in range(trials):
        ys = [round(rng.expovariate(1.0) + 0.1, 2) for _ in range(25)]
        xs = [R * y * rng.uniform(0.4, 1.6) for y in ys]
        est = ratio_estimate(xs, ys, 0.95)
        hits += est.low <= R <= est.high
    share = hits / trials
    assert 0.88 <= share <= 0.99, share


def test_intervals_stay_inside_one_reset_period() -> None:
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    r1, r2 = t + timedelta(hours=5), t + timedelta(hours=10)
    snaps = [
        {"captured_at": t, "used_percent": 0.0, "resets_at": r1},
        {"captured_at": t + timedelta(hours=1), "used_percent": 10.0, "resets_at": r1},
        {"captured_at": t + timedelta(hours=1), "used_percent": 10.0, "resets_at": r1},  # same instant twice
        {"captured_at": t + timedelta(hours=2), "used_percent": 10.0, "resets_at": r1 + timedelta(minutes=1)},  # jitter
        {"captured_at": t + timedelta(hours=6), "used_percent": 4.0, "resets_at": r2},  # new period
        {"captured_at": t + timedelta(hours=7), "used_percent": 9.0, "resets_at": r2},
    ]
    got = [(iv.start.hour, iv.end.hour, iv.dp) for iv in intervals(snaps)]
    assert got == [(0, 1, 10.0), (1, 2, 0.0), (6, 7, 5.0)]
