"""``quota plan --explore`` (logscan.quota.explore): Thompson sampling over each window's value
per percent. Synthetic bars and estimates: capacities are never exceeded, an option with few
readings is sometimes tried, and as readings accumulate the better option is chosen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from logscan.quota.estimate import Estimate
from logscan.quota.explore import explore, posteriors
from logscan.quota.plan import Bar

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
A = ("claude-code", "weekly", None)
B = ("codex", "weekly", None)
A5 = ("claude-code", "five_hour", None)


def bar(key: tuple, used: float, hours: float = 48) -> Bar:
    return Bar(key, used, None, NOW, NOW + timedelta(hours=hours), "usage-paste")


def est(value: float, half: float, n: int) -> Estimate:
    return Estimate(value, value - half, value + half, n)


def test_capacities_are_never_exceeded() -> None:
    current = [bar(A, 70.0), bar(A5, 90.0, 3), bar(B, 20.0)]
    estimates = {A: est(2.0, 0.5, 8), A5: est(0.5, 0.2, 8), B: est(1.0, 0.4, 8)}
    for seed in range(50):
        ex = explore(500.0, current, estimates, seed=seed, draws=20)
        used: dict[str, float] = {}
        for a in ex.allocations:
            for k, p in a.pct_used.items():
                used[k] = used.get(k, 0.0) + p
        assert used.get("claude-code weekly", 0) <= 30.0 + 1e-6  # 100 - 70
        assert used.get("claude-code five_hour", 0) <= 10.0 + 1e-6  # the 5-hour window binds too
        assert used.get("codex weekly", 0) <= 80.0 + 1e-6
        assert ex.placed_range[0] <= ex.expected_placed <= ex.placed_range[1] + 1e-9


def test_few_readings_get_tried_and_many_readings_settle_on_the_better_option() -> None:
    current = [bar(A, 0.0), bar(B, 0.0)]
    # truth: A buys $2.00 per percent, B $1.50. Early: wide intervals; later: narrow ones.
    early = explore(50.0, current, {A: est(1.9, 1.5, 2), B: est(1.6, 1.5, 2)}, seed=1, draws=400)
    late = explore(50.0, current, {A: est(2.0, 0.1, 60), B: est(1.5, 0.1, 60)}, seed=1, draws=400)
    assert 0.15 < early.first_choice.get("codex", 0) < 0.85  # both are tried while unsure
    assert late.first_choice.get("claude-code", 0) > 0.99  # the better one, once the readings say so


def test_a_window_without_readings_gets_a_wide_prior_and_is_tried() -> None:
    current = [bar(A, 0.0), bar(B, 0.0)]
    post = posteriors({A: est(2.0, 0.2, 30)}, [A, B])
    assert post[B].mean == 2.0 and post[B].sd == 2.0
    ex = explore(10.0, current, {A: est(2.0, 0.2, 30)}, seed=3, draws=400)
    assert 0.1 < ex.first_choice.get("codex", 0) < 0.9


def test_draws_are_reproducible() -> None:
    current = [bar(A, 10.0), bar(B, 10.0)]
    e = {A: est(2.0, 1.0, 3), B: est(1.8, 1.0, 3)}
    assert explore(20.0, current, e, seed=9).first_choice == explore(20.0, current, e, seed=9).first_choice
