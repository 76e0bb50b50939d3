"""The benchmark's generators and logscan agree on every tool's totals (the benchmark refuses
to report a speed for a wrong answer; this keeps that check honest at a small size)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench


def test_bench_small_corpora_match_their_truth(tmp_path: Path) -> None:
    assert bench.main(["--size-mb", "0.5", "--dir", str(tmp_path), "--keep"]) == 0
    for tool in bench.GENERATORS:
        assert (tmp_path / f"{tool}.duckdb").exists()
