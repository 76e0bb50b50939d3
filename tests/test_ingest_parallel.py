"""Backfill with worker processes stores exactly what the serial path stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import logscan.ingest.ingestor as ingest_mod
from benchmarks.bench import generate_claude_corpus
from logscan.ingest.ingestor import Ingestor
from logscan.store.store import Store

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


def test_prestarted_workers_are_used_and_store_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logscan.ingest.parallel as par

    corpus = tmp_path / "corpus"
    generate_claude_corpus(corpus, 1.0, seed=3, session_mb=0.2)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    made: list[int] = []
    real_new_pool = par._new_pool
    monkeypatch.setattr(par, "_new_pool", lambda w, h, f: made.append(w) or real_new_pool(w, h, f))
    par.prestart(2, "h1", Ingestor)
    assert made == [2]
    with Store.open(tmp_path / "pre.duckdb") as store:
        Ingestor(store, workers=2, host="h1").run([corpus])
    assert made == [2] and par._PRESTARTED is None  # the prestarted pool was taken, none made
    with Store.open(tmp_path / "serial.duckdb") as store:
        Ingestor(store, workers=1, host="h1").run([corpus])
    assert snapshot(tmp_path / "pre.duckdb") == snapshot(tmp_path / "serial.duckdb")
    # a pool started for another host or size is not used (its workers would stamp the wrong host)
    par.prestart(2, "other", Ingestor)
    with Store.open(tmp_path / "third.duckdb") as store:
        Ingestor(store, workers=2, host="h1").run([corpus])
    assert made == [2, 2, 2] and par._PRESTARTED is None
    with Store.open(tmp_path / "third.duckdb", read_only=True) as s:
        assert s.query("SELECT DISTINCT host FROM events")[1] == [("h1",)]
    par.prestart(2, "unused", Ingestor)
    par._drop_prestarted()  # what exit does with a pool nobody took
    assert par._PRESTARTED is None


def test_first_read_started_before_the_store_opens_stores_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no store yet the workers get the files before the store is created; their results
    are taken only when the plan is exactly that work. A file that changed in between (so the
    plan differs) drops the early results unmerged: nothing is counted twice."""
    import logscan.ingest.parallel as par
    from logscan.ingest.discovery import discover

    corpus = tmp_path / "corpus"
    truth = generate_claude_corpus(corpus, 1.0, seed=5, session_mb=0.2)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    with Store.open(tmp_path / "serial.duckdb") as store:
        serial = Ingestor(store, workers=1, host="h1").run([corpus])
    expected = snapshot(tmp_path / "serial.duckdb")
    made: list[int] = []
    real_new_pool = par._new_pool
    monkeypatch.setattr(par, "_new_pool", lambda w, h, f: made.append(w) or real_new_pool(w, h, f))

    found = discover([corpus])
    par.prestart(2, "h1", Ingestor, [f for _, files in found for f in files])
    with Store.open(tmp_path / "early.duckdb") as store:
        ing = Ingestor(store, workers=2, host="h1")
        todo, _ = ing.plan([corpus], found)
        s = ing.run_planned(todo)
    assert made == [2] and par._PRESTARTED is None  # the early results were taken: no new pool
    assert s.new_events == truth.events and sum(s.by_tool.values()) == truth.events  # counted from when the work began
    assert (s.usage_records, s.files_read, s.bytes_read) == (serial.usage_records, serial.files_read, serial.bytes_read)
    assert snapshot(tmp_path / "early.duckdb") == expected

    # A file grew between the early start and the plan: the early work is dropped, redone.
    found = discover([corpus])
    par.prestart(2, "h1", Ingestor, [f for _, files in found for f in files])
    victim = next(p for _, files in found for p, _ in files)
    with open(victim, "ab") as f:
        f.write(b"\n")
    with Store.open(tmp_path / "late.duckdb") as store:
        ing = Ingestor(store, workers=2, host="h1")
        todo, _ = ing.plan([corpus])  # a new walk: the grown file's stat differs
        s = ing.run_planned(todo)
    assert made == [2, 2, 2] and par._PRESTARTED is None  # the early pool was replaced
    assert s.new_events == truth.events and (s.usage_records, s.files_read) == (serial.usage_records, serial.files_read)  # once each
    assert snapshot(tmp_path / "late.duckdb")[0] == expected[0]


def test_likely_parallel_counts_only_files_newer_than_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from logscan.ingest.ingestor import likely_parallel
    from logscan.ingest.discovery import discover

    corpus = tmp_path / "corpus"
    generate_claude_corpus(corpus, 0.5, seed=4, session_mb=0.1)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 100_000)
    found = discover([corpus, tmp_path / "missing"])
    assert [root for root, _ in found] == [corpus]
    db = tmp_path / "x.duckdb"
    assert likely_parallel(found, db, 2)  # no store yet: everything is new
    assert not likely_parallel(found, db, 1)
    db.write_bytes(b"")
    newest = max(st.st_mtime_ns for _, files in found for _, st in files)
    os.utime(db, ns=(newest + 10**9, newest + 10**9))
    assert not likely_parallel(found, db, 2)  # nothing written since the store was


def test_the_pool_does_not_spin_while_results_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """multiprocessing.Pool's worker-maintenance thread also waits on the result pipe, so it
    woke ~30 times per result while each one waited to be read (7,727 wake-ups for 255 files),
    taking the GIL from the threads that read and commit. logscan's pool wakes it only for a
    worker's exit and at shutdown."""
    import multiprocessing.pool as mp_pool

    corpus = tmp_path / "corpus"
    generate_claude_corpus(corpus, 2.0, seed=5, session_mb=0.05)  # about 30 files: 30 results
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    wakeups: list[int] = []
    real_wait = mp_pool.Pool._wait_for_updates
    monkeypatch.setattr(mp_pool.Pool, "_wait_for_updates", staticmethod(lambda *a, **k: wakeups.append(1) or real_wait(*a, **k)))
    with Store.open(tmp_path / "a.duckdb") as store:
        s = Ingestor(store, workers=2).run([corpus])
    assert s.files_read >= 30 and len(wakeups) < 10


def test_small_files_grouped_per_task_store_what_one_file_per_task_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files travel to the workers in groups (fewer round-trips); each still gets its own
    batch, so events, positions and problems are the same as with one file per task."""
    import logscan.ingest.parallel as par

    corpus = tmp_path / "corpus"
    generate_claude_corpus(corpus, 1.0, seed=5, session_mb=0.05)
    shutil.copytree(TRAPS, corpus / "traps")  # files with problems among the grouped ones
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    seen: list[list[int]] = []
    real_group = par.group_tasks
    monkeypatch.setattr(par, "group_tasks", lambda tasks: seen.append([len(g) for g in real_group(tasks)]) or real_group(tasks))
    runs = []
    for name, file_bytes in (("single.duckdb", -1), ("grouped.duckdb", 1 << 30)):
        monkeypatch.setattr(par, "GROUP_FILE_BYTES", file_bytes)
        monkeypatch.setattr(par, "GROUP_FILES", 3)
        with Store.open(tmp_path / name) as store:
            s = Ingestor(store, workers=2).run([corpus])
        runs.append((s.new_events, s.usage_records, s.new_problems, s.files_read, s.files_seen))
    assert set(seen[0]) == {1} and max(seen[1]) == 3 and sum(seen[0]) == sum(seen[1])
    assert runs[0] == runs[1] and runs[0][2] > 0
    assert snapshot(tmp_path / "single.duckdb") == snapshot(tmp_path / "grouped.duckdb")


def test_group_tasks_keeps_order_and_sends_big_files_and_databases_alone() -> None:
    import os

    import logscan.ingest.parallel as par

    def task(path: str, size: int) -> tuple[str, os.stat_result, None]:
        return (path, os.stat_result((0, 0, 0, 0, 0, 0, size, 0, 0, 0)), None)

    tasks = [task("a.db", 10), *(task(f"s{i}.json", 1000) for i in range(70)), task("big.jsonl", 10 << 20), task("t.json", 5)]
    groups = par.group_tasks(tasks)
    assert [t for g in groups for t in g] == tasks
    assert [len(g) for g in groups] == [1, par.GROUP_FILES, 70 - par.GROUP_FILES, 1, 1]


def test_cli_first_backfill_starts_the_workers_early_and_counts_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``logscan backfill`` into a store that does not exist yet hands the files to the workers
    before the store is created; the summary and the store are those of an ordinary run."""
    import logscan.ingest.parallel as par
    from click.testing import CliRunner

    from logscan.cli import cli

    corpus = tmp_path / "corpus"
    truth = generate_claude_corpus(corpus, 1.0, seed=9, session_mb=0.2)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_mod, "default_workers", lambda: 2)
    early: list[int] = []
    real_prestart = par.prestart
    monkeypatch.setattr(par, "prestart", lambda w, h, f, first=None: early.append(len(first or ())) or real_prestart(w, h, f, first))
    db = tmp_path / "new.duckdb"
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", "--json", str(corpus)])
    assert r.exit_code == 0, r.output
    assert early and early[0] > 1  # every file was handed over before the store existed
    import json

    out = json.loads(r.output)
    assert out["new_events"] == truth.events and out["by_tool"] == {"claude-code": truth.events}
    r = CliRunner().invoke(cli, ["--db", str(db), "backfill", "--json", str(corpus)])  # the store exists now
    assert json.loads(r.output)["new_events"] == 0 and early[1:] in ([], [0])
