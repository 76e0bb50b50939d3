"""Push and pull: moving rows between the local DuckDB store and the PostgreSQL hub in batches.

**Push.** The events the hub is not known to hold at their rank (``syncstate.plan_push``) go in
batches of ``batch_rows``: DuckDB writes a batch as CSV, ``COPY`` loads it into a temporary
staging table on the hub, and one short transaction under the writers' advisory lock upserts it
by ``event_id`` (a row replaces the hub's only with a higher rank, or an equal rank and a smaller
host: the local store's rule) with a fresh ``seq``, then applies the local sidechain-replay rule.
Only after the hub committed are the batch's ranks remembered locally; an interruption before
that makes the next push send the batch again, which changes nothing on the hub.

**Pull.** The hub's rows of other hosts with ``seq`` above this store's watermark, in ``seq``
order, ``batch_rows`` at a time: ``COPY ... TO STDOUT`` into a temporary CSV file, merged by
``syncstate.merge_pulled`` (``Store.import_events``, the path of ``logscan import``), and the
watermark moves only after the merge.

``hook(step, rows)`` (tests) is called at each point an interruption can hit: ``push-staged``
(hub staging filled, not committed), ``push-committed`` (hub committed, ranks not yet remembered),
``pull-fetched`` (rows on disk, not merged) and ``pull-merged``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logscan.store import syncstate
from logscan.store.readonly import stage_dir
from logscan.sync.hub import EVENT_NAMES, LOCK_KEY, SNAPSHOT_HUB_COLUMNS, TEXT_COLUMNS

Hook = Callable[[str, int], None]
BATCH_ROWS = 50_000
_COLS = ", ".join(EVENT_NAMES)
_SETS = ", ".join(n for n in EVENT_NAMES if n != "event_id")
_UPSERT = f"""INSERT INTO logscan.events AS h ({_COLS}, seq)
SELECT {_COLS}, nextval('logscan.change_seq') FROM (
  SELECT DISTINCT ON (event_id) * FROM _logscan_stage ORDER BY event_id, rank DESC, host) s
ON CONFLICT (event_id) DO UPDATE SET ({_SETS}, seq, pushed_at) =
  ({', '.join('EXCLUDED.' + n for n in EVENT_NAMES if n != 'event_id')}, EXCLUDED.seq, now())
WHERE EXCLUDED.rank > h.rank OR (EXCLUDED.rank = h.rank AND EXCLUDED.host < h.host)"""
# Store._merge_staged_events' rule: a Claude Code sidechain copy goes once its message id has a
# non-sidechain row.
_SIDECHAIN = """DELETE FROM logscan.events d WHERE d.tool = 'claude-code' AND d.is_sidechain
AND d.message_id IN (SELECT message_id FROM _logscan_stage WHERE tool = 'claude-code' AND message_id IS NOT NULL)
AND EXISTS (SELECT 1 FROM logscan.events m WHERE m.tool = 'claude-code' AND m.message_id = d.message_id AND NOT m.is_sidechain)"""
_CSV_IN = "(FORMAT csv, HEADER true, NULL '\\N')"
_CSV_OUT = f"(FORMAT csv, HEADER true, NULL '\\N', FORCE_QUOTE ({', '.join(TEXT_COLUMNS)}))"


@dataclass
class PushResult:
    events: int = 0  # local events sent
    changed: int = 0  # hub rows inserted or replaced
    dropped: int = 0  # sidechain replays the hub dropped
    snapshots: int = 0


@dataclass
class PullResult:
    rows: int = 0
    new_events: int = 0
    updated_events: int = 0
    bad_rows: int = 0


def _tmp(store: Any) -> str:
    """A private (0600) CSV file in the store's staging directory: the only place the store's
    connection may read and write files (``logscan.store.readonly.lock_down``)."""
    fd, path = tempfile.mkstemp(prefix="sync-", suffix=".csv", dir=stage_dir(store.path))
    os.close(fd)
    return path


def _copy_in(pg: Any, table: str, columns: str, path: str) -> None:
    with pg.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN {_CSV_IN}") as copy, open(path, "rb") as f:
        while block := f.read(1 << 20):
            copy.write(block)


def push(store: Any, pg: Any, host: str, *, redact: str | None = None, batch_rows: int = BATCH_ROWS, hook: Hook | None = None) -> PushResult:
    """Send what the hub lacks (events, then quota snapshots); see the module doc."""
    out = PushResult()
    total = syncstate.plan_push(store)
    pg.execute(f"CREATE TEMP TABLE IF NOT EXISTS _logscan_stage AS SELECT {_COLS} FROM logscan.events WITH NO DATA")
    pg.commit()
    path = _tmp(store)
    try:
        for lo in range(0, total, batch_rows):
            hi = min(lo + batch_rows, total)
            syncstate.write_push_batch(store, lo, hi, path, redact)
            with pg.transaction():
                pg.execute("TRUNCATE _logscan_stage")
                _copy_in(pg, "_logscan_stage", _COLS, path)
                if hook:
                    hook("push-staged", hi - lo)
                pg.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
                out.changed += pg.execute(_UPSERT).rowcount
                out.dropped += pg.execute(_SIDECHAIN).rowcount
            if hook:
                hook("push-committed", hi - lo)
            syncstate.mark_pushed(store, lo, hi)
            out.events += hi - lo
        n = syncstate.write_snapshots(store, path, host)
        if n:
            cols = ", ".join(c for c, _ in SNAPSHOT_HUB_COLUMNS)
            with pg.transaction():
                pg.execute(f"CREATE TEMP TABLE IF NOT EXISTS _logscan_snap AS SELECT {cols} FROM logscan.quota_snapshots WITH NO DATA")
                pg.execute("TRUNCATE _logscan_snap")
                _copy_in(pg, "_logscan_snap", cols, path)
                pg.execute(f"INSERT INTO logscan.quota_snapshots ({cols}) SELECT {cols} FROM _logscan_snap ON CONFLICT (snapshot_id) DO NOTHING")
            syncstate.mark_snapshots_pushed(store)
            out.snapshots = n
    finally:
        os.unlink(path)
    return out


def pull(store: Any, pg: Any, host: str, origin: str, *, batch_rows: int = BATCH_ROWS, hook: Hook | None = None) -> PullResult:
    """Merge the hub's rows of other hosts above the watermark; see the module doc. ``origin``
    names the hub in problem rows."""
    from psycopg import sql

    out = PullResult()
    path = _tmp(store)
    try:
        while True:
            st = syncstate.load_state(store.con)
            assert st is not None, "bind_hub first"
            q = sql.SQL(f"COPY (SELECT {_COLS}, seq FROM logscan.events WHERE seq > {{}} AND host <> {{}} "
                        f"ORDER BY seq LIMIT {{}}) TO STDOUT {_CSV_OUT}").format(
                sql.Literal(int(st.pulled_seq)), sql.Literal(host), sql.Literal(int(batch_rows)))
            with open(path, "wb") as f, pg.cursor() as cur, cur.copy(q) as copy:
                for block in copy:
                    f.write(block)
            pg.commit()
            if hook:
                hook("pull-fetched", 0)
            res = syncstate.merge_pulled(store, path, origin)
            if hook:
                hook("pull-merged", res.rows)
            out.rows += res.rows
            out.new_events += res.result.new_events
            out.updated_events += res.result.updated_events
            out.bad_rows += res.bad_rows
            if res.rows < batch_rows:
                break
    finally:
        os.unlink(path)
    return out
