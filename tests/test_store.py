"""Store and migrations against a real temp DuckDB file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from logscan.errors import MigrationError, NoDatabase, ReadOnlyViolation
from logscan.store.migrations import EVENT_COLUMNS, MIGRATIONS, migrate
from logscan.store.store import EVENT_NAMES, Batch, FileState, Store

NOW = datetime(2026, 3, 1, 12, 0, 0)


def row(event_id: int, rank: int, output: int, *, tool: str = "claude-code", message_id: str | None = None, side: bool = False) -> tuple[object, ...]:
    values = {
        "event_id": event_id, "tool": tool, "provider": "anthropic", "model": "m", "ts": NOW, "session_id": "s",
        "project": "/p", "is_sidechain": side, "agent_id": None, "message_id": message_id, "request_id": None,
        "input_tokens": 1, "output_tokens": output, "cache_read_tokens": 0, "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0, "reasoning_tokens": 0, "total_tokens": 1 + output, "web_search_requests": 0,
        "web_fetch_requests": 0, "output_lower_bound": False, "speed": None, "cost_usd": None, "price_status": "unknown_model",
        "priced_model": None, "pricing_version": "t", "host": "h", "source_path": "/f", "source_offset": 0, "rank": rank,
        "ingested_at": NOW,
    }
    return tuple(values[n] for n in EVENT_NAMES)


def fstate(path: str, offset: int) -> FileState:
    return FileState(path, "claude-code", 1, 2, 100, 5, offset, None, None, 1, NOW, NOW)


def test_migrate_blank_gives_expected_schema(db: Path) -> None:
    with Store.open(db) as s:
        cols = s.query("DESCRIBE events")[1]
        names = [m[0] for m in s.query("SELECT name FROM _logscan_migrations ORDER BY applied_at, name")[1]]
    assert [c[0] for c in cols] == [n for n, _ in EVENT_COLUMNS]
    assert names == [m.__name__ for m in MIGRATIONS]


def test_migrate_from_first_migration_keeps_rows(db: Path) -> None:
    con = duckdb.connect(str(db))
    migrate(con, stop_before=MIGRATIONS[1].__name__)
    con.execute(f"INSERT INTO events VALUES ({', '.join('?' * len(EVENT_NAMES))})", list(row(7, 1, 5)))
    con.close()
    with Store.open(db) as s:  # finishes migrating
        assert s.query("SELECT event_id FROM events")[1] == [(7,)]
        assert s.query("SELECT count(*) FROM files")[1] == [(0,)]


def test_unknown_migration_means_newer_logscan(db: Path) -> None:
    with Store.open(db) as s:
        s.con.execute("INSERT INTO _logscan_migrations VALUES ('m999_future', now()::TIMESTAMP)")
    with pytest.raises(MigrationError, match="newer logscan"):
        Store.open(db)


def test_read_only_open_of_missing_db_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NoDatabase, match="logscan backfill"):
        Store.open(tmp_path / "nope.duckdb", read_only=True)


def test_merge_keeps_highest_rank_and_first_on_ties(db: Path) -> None:
    with Store.open(db) as s:
        r = s.ingest(Batch(events=[row(1, 10, 10), row(1, 299, 299), row(1, 299, 5), row(2, 5, 5)]))
        assert (r.new_events, s.query("SELECT event_id, output_tokens FROM events ORDER BY 1")[1]) == (2, [(1, 299), (2, 5)])
        r = s.ingest(Batch(events=[row(1, 100, 100), row(2, 6, 6)]))
        assert (r.new_events, r.updated_events) == (0, 1)
        assert s.query("SELECT event_id, output_tokens FROM events ORDER BY 1")[1] == [(1, 299), (2, 6)]
        assert s.query("SELECT count(*) - count(DISTINCT event_id) FROM events")[1] == [(0,)]


def test_sidechain_copy_of_a_main_message_is_dropped(db: Path) -> None:
    with Store.open(db) as s:
        s.ingest(Batch(events=[row(10, 5, 900, message_id="msg_A", side=True)]))
        r = s.ingest(Batch(events=[row(11, 1 << 50, 299, message_id="msg_A")]))
        assert r.sidechain_replays_dropped == 1 and r.new_events == 0
        assert s.query("SELECT event_id, output_tokens FROM events")[1] == [(11, 299)]


def test_events_and_offsets_commit_together(db: Path) -> None:
    with Store.open(db) as s:
        s.ingest(Batch(events=[row(1, 1, 1)], files={"/f": fstate("/f", 10)}))
        bad = list(row(2, 1, 1))
        bad[EVENT_NAMES.index("model")] = None  # violates NOT NULL inside the transaction
        broken = Batch(events=[row(3, 1, 1), tuple(bad)], files={"/f": fstate("/f", 20)})
        with pytest.raises(duckdb.ConstraintException):
            s.ingest(broken)
        # nothing of the failed batch is visible: neither the event nor the new offset
        assert s.query("SELECT count(*) FROM events")[1] == [(1,)]
        assert s.query('SELECT "offset" FROM files')[1] == [(10,)]
        # and nothing of it is left staged for the next batch
        assert s.ingest(Batch(events=[row(4, 1, 1)], files={"/g": fstate("/g", 5)})).new_events == 1
        assert s.query("SELECT event_id FROM events ORDER BY 1")[1] == [(1,), (4,)]
        assert s.query('SELECT path, "offset" FROM files ORDER BY path')[1] == [("/f", 10), ("/g", 5)]


def test_problems_are_not_duplicated_on_reread(db: Path) -> None:
    p = ("/f", 5, "invalid-json", "bad", 3, "claude-code", 1, NOW)
    with Store.open(db) as s:
        assert s.ingest(Batch(problems=[p, p])).new_problems == 1
        assert s.ingest(Batch(problems=[p])).new_problems == 0


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM events", "DROP TABLE events", "INSERT INTO files VALUES (1)", "COPY events TO 'x.csv'", "ATTACH 'x.db'", "SELECT 1; DELETE FROM events", "SET threads=1"],
)
def test_query_refuses_writes(db: Path, sql: str) -> None:
    with Store.open(db) as s:
        with pytest.raises(ReadOnlyViolation):
            s.query(sql)


def test_event_timestamps_become_utc_whatever_their_form() -> None:
    from datetime import datetime, timedelta, timezone

    import pydantic

    from logscan.models import Event

    base = {"event_id": 1, "tool": "t", "provider": None, "model": "m", "source_path": "p", "source_offset": 0}
    want = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    for ts in ("2026-01-01T12:00:00Z", "2026-01-01T14:00:00+02:00", "2026-01-01T12:00:00", "2026-01-01 12:00:00.000Z",
               datetime(2026, 1, 1, 12), datetime(2026, 1, 1, 7, tzinfo=timezone(timedelta(hours=-5))), 1767268800):
        ev = Event(**base, ts=ts)
        assert ev.ts == want and ev.ts.utcoffset() == timedelta(0), ts
    for bad in ("yesterday", "", None):
        with pytest.raises(pydantic.ValidationError):
            Event(**base, ts=bad)
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 0"):
        Event(**base, ts=want, input_tokens=-1)
    with pytest.raises(pydantic.ValidationError, match="less than or equal"):
        Event(**base, ts=want, output_tokens=1 << 41)


def test_new_event_is_event_validation_without_the_init_layer() -> None:
    from datetime import datetime, timezone

    import pydantic

    from logscan.models import Event, new_event

    kw = {"event_id": 7, "tool": "t", "provider": "p", "model": "m", "ts": "2026-01-01T12:00:00Z", "source_path": "p",
          "source_offset": 3, "input_tokens": 5, "output_tokens": 1, "session_id": "s"}
    ev = new_event(**kw)
    assert type(ev) is Event and ev == Event(**kw) and ev.ts == datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    assert ev.model_fields_set == Event(**kw).model_fields_set
    for bad in ({"input_tokens": -1}, {"ts": "never"}, {"unknown_field": 1}, {"model": None}):
        with pytest.raises(pydantic.ValidationError):
            new_event(**{**kw, **bad})


def test_checkpoint_and_threads(db: Path) -> None:
    with Store.open(db) as s:
        s.ingest(Batch(events=[row(1, 10, 10)]))
        s.set_threads(1)
        assert s.con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
        s.set_threads(None)
        assert s.con.execute("SELECT current_setting('threads')").fetchone()[0] >= 1
        s.checkpoint()
        wal = db.with_name(db.name + ".wal")
        assert not wal.exists() or wal.stat().st_size == 0  # everything is in the database file
    with Store.open(db, read_only=True) as s:
        s.checkpoint()  # a no-op on a read-only store
        assert s.query("SELECT count(*) FROM events")[1] == [(1,)]


def test_a_pickled_batch_stores_exactly_what_the_original_does(tmp_path: Path) -> None:
    """Worker processes send their batches pickled, event rows already encoded for the store's
    JSON staging (times as ISO text): what lands in the store must not change by a bit, whether
    rows were encoded in another process or by the store itself."""
    import pickle
    from datetime import datetime

    rows = [row(1, 10, 10), row(2, 1 << 50, 7, message_id="msg_x"), row(-(1 << 63), 3, 3), row((1 << 63) - 1, 4, 4)]
    odd = ["tab\there", 'quote " and \\ backslash', "nul\x00byte", "emoji \U0001f600", "line\nbreak", ""]
    rows = [
        (*r[:4], datetime(2026, 1, 2, 3, 4, 5, 678901 if i else 0), r[5], odd[i], *r[7:22], [0.1 + 0.2, 1e-300, 5e20, None][i], *r[23:])
        for i, r in enumerate(rows)
    ]
    sent = pickle.loads(pickle.dumps(Batch(events=rows)))
    assert sent.events == [] and sent.event_count == 4 and len(sent.event_chunks) == 1  # travelled encoded
    for name, batch in (("a", Batch(events=rows)), ("b", sent)):
        with Store.open(tmp_path / f"{name}.duckdb") as s:
            s.ingest(batch)
    got = []
    for name in "ab":
        with Store.open(tmp_path / f"{name}.duckdb", read_only=True) as s:
            got.append(s.query("SELECT * FROM events ORDER BY event_id")[1])
    assert got[0] == got[1] == sorted(rows)


def test_lone_surrogates_are_stored_replaced_not_refused(db: Path) -> None:
    """A string with a lone surrogate has no UTF-8 form (the stdlib JSON fallback can produce
    one): the event is stored with U+FFFD in its place instead of failing the whole batch."""
    r = row(1, 10, 10)
    bad = (*r[:6], "cwd-\ud800", *r[7:])
    with Store.open(db) as s:
        assert s.ingest(Batch(events=[bad])).new_events == 1
        assert s.query("SELECT project FROM events")[1] == [("cwd-\ufffd",)]


def test_a_lone_surrogate_in_a_problem_row_does_not_fail_the_commit(db: Path) -> None:
    from datetime import datetime

    probs = [("/ok", 0, "schema", "fine", 1, "t", 1, datetime(2026, 1, 1)), ("/f-\udcff", 3, "schema", "r \ud800", 1, "t", 1, datetime(2026, 1, 1))]
    with Store.open(db) as s:
        assert s.ingest(Batch(problems=probs, files={"/f": fstate("/f", 10)})).new_problems == 2
        assert s.query('SELECT path, reason FROM problems ORDER BY "offset"')[1] == [("/ok", "fine"), ("/f-\ufffd", "r \ufffd")]
        assert s.query('SELECT "offset" FROM files')[1] == [(10,)]


def test_staging_splits_large_batches_into_chunks(db: Path) -> None:
    from logscan.store import store

    rows = [row(i, i, i) for i in range(store.CHUNK_ROWS * 2 + 5)] + [row(7, 1, 1), row(8, 10**6, 1)]
    assert [n for n, _ in store.encode_events(rows)] == [store.CHUNK_ROWS, store.CHUNK_ROWS, 7]
    with Store.open(db) as s:
        assert s.ingest(Batch(events=rows)).new_events == store.CHUNK_ROWS * 2 + 5
        # the same id twice in one batch: the higher rank wins across chunk boundaries
        assert s.query("SELECT rank FROM events WHERE event_id IN (7, 8) ORDER BY event_id")[1] == [(7,), (10**6,)]


def test_batch_event_count_follows_merges_pickling_and_replacement() -> None:
    """event_count sums the chunks incrementally: it must still see every chunk merged after an
    earlier call, and a replaced (or pickled and restored) chunk list is counted afresh."""
    import pickle

    from logscan.ingest.parallel import merge_batch

    b = Batch(events=[row(1, 0, 1)])
    assert b.event_count == 1
    for i in range(5):
        part = Batch(events=[row(10 + i * 3 + k, 0, 1) for k in range(3)])
        merge_batch(b, pickle.loads(pickle.dumps(part)))  # what a worker's result looks like
        assert b.event_count == 1 + 3 * (i + 1)
    assert b.event_count == sum(n for n, _ in b.event_chunks) + len(b.events) == 16
    restored = pickle.loads(pickle.dumps(b))
    assert restored.event_count == 16 and not restored.events
    b.event_chunks = b.event_chunks[:2]  # replaced by a shorter list
    assert b.event_count == 1 + 6
    b.event_chunks = [(7, b"x")]  # replaced by a list of the same length as one counted before
    b.event_chunks.append((2, b"y"))
    assert b.event_count == 1 + 9
