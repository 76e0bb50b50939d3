"""Backfill with worker processes stores exactly what the serial path stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import logscan.ingest as ingest_mod
from logscan.bench import generate_claude_corpus
from logscan.ingest import Ingestor
from logscan.store import Store

TRAPS = Path(__file__).parent / "fixtures" / "claude-code" / "traps"
COLS = "event_id, tool, model, ts, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cost_usd, source_path, source_offset"


def snapshot(db: Path) -> tuple[object, ...]:
    with Store.open(db, read_only=True) as s:
        return (
            s.query(f"SELECT {COLS} FROM events ORDER BY event_id")[1],
            s.query('SELECT path, "offset", size, head_hash FROM files ORDER BY path')[1],
            s.query('SELECT path, "offset", kind FROM problems ORDER BY path, "offset"')[1],
        )


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    truth = generate_claude_corpus(corpus, 3.0, seed=7, session_mb=0.4)
    shutil.copytree(TRAPS, corpus / "traps")  # problems and sidechain replays too
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    results = []
    for workers, name in ((1, "serial.duckdb"), (2, "parallel.duckdb")):
        with Store.open(tmp_path / name) as store:
            s = Ingestor(store, workers=workers).run([corpus])
        results.append((s.new_events, s.usage_records, s.new_problems, s.files_read))
    assert results[0] == results[1]
    assert results[0][0] == truth.events + 6  # the generated calls plus the 6 trap events
    assert snapshot(tmp_path / "serial.duckdb") == snapshot(tmp_path / "parallel.duckdb")
    with Store.open(tmp_path / "parallel.duckdb") as store:
        again = Ingestor(store, workers=2).run([corpus])
    assert again.new_events == 0 and again.bytes_read == 0
