"""A freshly generated home with every known trap (benchmarks/holdout.py) is counted exactly:
per tool, billed calls and token sums equal the generator's truth, and the problems are exactly
the planted ones. Three seeds nobody tuned against, small sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import holdout


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_generated_holdout_is_exact(tmp_path: Path, seed: int) -> None:
    truth, planted = holdout.build(tmp_path / "home", seed, 0.4)
    assert planted == 3 and all(t.events > 0 for t in truth.values())
    assert holdout.check(tmp_path / "home", tmp_path / "h.duckdb", truth, planted) == []


def test_holdout_detects_a_miscount(tmp_path: Path) -> None:
    """The check is not vacuous: one call too many in the truth is a mismatch."""
    truth, planted = holdout.build(tmp_path / "home", 5, 0.3)
    truth["codex"].events += 1
    bad = holdout.check(tmp_path / "home", tmp_path / "h.duckdb", truth, planted)
    assert len(bad) == 1 and bad[0].startswith("codex:")
