"""The local side of a sync with a PostgreSQL hub (``logscan.sync``): what the hub is known to
hold, the pull watermark, the rows to push written as CSV, and pulled CSV merged in.

State (migration ``m007_sync``): ``sync_state`` holds one row for the hub in use (its URL without
password, its id, ``pulled_seq``, the last attempt and its error); ``sync_known`` holds
(event_id, rank) of every event the hub is known to hold at least at that rank (pushed, or
pulled from it), ``sync_known_snapshots`` the quota snapshot ids pushed. A push sends the events
with no known rank or a higher one. Pointing the store at another hub (another id) clears both.

Every step here is idempotent, so an interruption between any two of them is harmless: pulled
rows are merged with ``Store.import_events`` (the same merge as ``logscan import``: by event_id,
higher rank wins, equal ranks keep the smaller ``host`` so that every store and the hub settle on
the same row), and known ranks and the watermark are written after the data they describe.

CSV both ways: NULL is ``\\N`` unquoted, every text value quoted (so an empty string stays one),
doubles in shortest exact form, times ISO without zone (UTC). A pulled value that cannot be read
as its column's type, or a missing required one, makes the row a problem (path
``hub:<url>#logscan.events``, offset = the row's ``seq``, kind ``sync-bad-row``) instead of an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from logscan.store.migrations import EVENT_COLUMNS
from logscan.store.store import SNAPSHOT_COLUMNS, Batch, IngestResult, utcnow

NAMES = [n for n, _ in EVENT_COLUMNS]
TYPES = {n: t.split()[0] for n, t in EVENT_COLUMNS}
REQUIRED = {n for n, t in EVENT_COLUMNS if "NOT NULL" in t}
TEXT = [n for n, t in EVENT_COLUMNS if t.startswith("VARCHAR")]
REDACT_MODES = ("hash", "basename")
_CSV_OUT = "FORMAT csv, HEADER true, NULLSTR '\\N', FORCE_QUOTE ({cols})"
_CSV_IN = "header = true, nullstr = '\\N', allow_quoted_nulls = false, auto_detect = false, columns = {{{cols}}}"


@dataclass
class SyncState:
    hub_url: str
    hub_id: str
    host: str
    pulled_seq: int
    last_attempt_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    last_pushed: int | None = None
    last_pulled: int | None = None


STATE_COLUMNS = list(SyncState.__dataclass_fields__)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def load_state(con: Any) -> SyncState | None:
    """The sync state (from any cursor, read-only is fine); None before the first sync."""
    row = con.execute(f"SELECT {', '.join(STATE_COLUMNS)} FROM sync_state LIMIT 1").fetchone()
    return SyncState(*row) if row else None


def bind_hub(store: Any, hub_url: str, hub_id: str, host: str) -> SyncState:
    """The state for this hub; a hub with another id than the one last used starts from zero."""
    con = store.con
    st = load_state(con)
    if st is not None and st.hub_id == hub_id:
        if st.hub_url != hub_url or st.host != host:
            con.execute("UPDATE sync_state SET hub_url = ?, host = ?", [hub_url, host])
            st.hub_url, st.host = hub_url, host
        return st
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM sync_state")
        con.execute("DELETE FROM sync_known")
        con.execute("DELETE FROM sync_known_snapshots")
        con.execute("INSERT INTO sync_state (hub_url, hub_id, host, pulled_seq) VALUES (?, ?, ?, 0)", [hub_url, hub_id, host])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return SyncState(hub_url, hub_id, host, 0)


def record_attempt(store: Any, error: str | None, pushed: int, pulled: int) -> None:
    """After a sync (``error`` None when it completed): when, and what went wrong."""
    now = utcnow()
    store.con.execute(
        "UPDATE sync_state SET last_attempt_at = ?, last_error = ?, last_pushed = ?, last_pulled = ?"
        + (", last_ok_at = ?" if error is None else ""),
        [now, error, pushed, pulled] + ([now] if error is None else []),
    )


# -- push ---------------------------------------------------------------------------------


def _redacted(name: str, mode: str | None) -> str:
    col = f"e.{name}"
    if mode is None or name not in ("project", "source_path"):
        return col
    if mode == "hash":
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE 'sha256:' || left(sha256({col}), 16) END"
    return f"parse_filename(rtrim({col}, '/\\'))"


def plan_push(store: Any) -> int:
    """Number the events the hub does not hold at their rank into ``_sync_out`` (1..n by event_id)."""
    store.con.execute(
        """CREATE OR REPLACE TEMP TABLE _sync_out AS
        SELECT e.event_id, e.rank, row_number() OVER (ORDER BY e.event_id) AS n
        FROM events e LEFT JOIN sync_known k ON k.event_id = e.event_id
        WHERE k.event_id IS NULL OR e.rank > k.rank"""
    )
    return int(store.con.execute("SELECT count(*) FROM _sync_out").fetchone()[0])


def write_push_batch(store: Any, lo: int, hi: int, path: str, redact: str | None) -> None:
    """Write the planned events ``lo < n <= hi`` (all columns, paths redacted as asked) as CSV."""
    if redact is not None and redact not in REDACT_MODES:
        raise ValueError(f"redact must be one of {REDACT_MODES}")
    cols = []
    for n in NAMES:
        expr = _redacted(n, redact)
        if n in TEXT:
            expr = f"replace({expr}, chr(0), '\ufffd')"  # PostgreSQL text cannot hold NUL
        cols.append(f"{expr} AS {n}")
    store.con.execute(
        f"""COPY (SELECT {', '.join(cols)} FROM events e JOIN _sync_out o ON o.event_id = e.event_id
        WHERE o.n > {int(lo)} AND o.n <= {int(hi)} ORDER BY o.n) TO {_lit(path)} ({_CSV_OUT.format(cols=', '.join(TEXT))})"""
    )


def mark_pushed(store: Any, lo: int, hi: int) -> None:
    """The hub committed the planned events ``lo < n <= hi``: remember their ranks."""
    _remember(store, f"SELECT event_id, rank FROM _sync_out WHERE n > {int(lo)} AND n <= {int(hi)}")


def _remember(store: Any, select: str, after: tuple[str, list[Any]] | None = None) -> None:
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _sync_k AS {select}")
        con.execute("DELETE FROM sync_known WHERE event_id IN (SELECT event_id FROM _sync_k)")
        con.execute("INSERT INTO sync_known SELECT event_id, rank FROM _sync_k")
        if after is not None:
            con.execute(*after)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def write_snapshots(store: Any, path: str, host: str) -> int:
    """Write the quota snapshots not yet pushed (with ``host``) as CSV; return how many."""
    con = store.con
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sync_snap AS SELECT s.* FROM quota_snapshots s
        WHERE s.snapshot_id NOT IN (SELECT snapshot_id FROM sync_known_snapshots)"""
    )
    n = int(con.execute("SELECT count(*) FROM _sync_snap").fetchone()[0])
    if n:
        # The hub's columns (logscan.sync.hub.SNAPSHOT_HUB_COLUMNS): a reading's local note stays local.
        cols = ", ".join(("snapshot_id", f"{_lit(host)} AS host", *(c for c in SNAPSHOT_COLUMNS[1:] if c != "note")))
        text = "host, tool, window_kind, scope, source, plan, zone_assumed, source_path"
        con.execute(f"COPY (SELECT DISTINCT ON (snapshot_id) {cols} FROM _sync_snap) TO {_lit(path)} ({_CSV_OUT.format(cols=text)})")
    return n


def mark_snapshots_pushed(store: Any) -> None:
    store.con.execute("INSERT INTO sync_known_snapshots SELECT DISTINCT snapshot_id FROM _sync_snap")


# -- pull ---------------------------------------------------------------------------------


@dataclass
class Pulled:
    rows: int
    max_seq: int | None
    result: IngestResult
    bad_rows: int


def merge_pulled(store: Any, path: str, origin: str) -> Pulled:
    """Merge a pulled CSV (event columns then ``seq``) through ``Store.import_events``; unreadable
    rows become problems. Then remember the hub's ranks and advance the watermark to the batch's
    highest ``seq`` (one transaction, after the merge: a crash in between only repeats a merge
    that changes nothing the second time)."""
    con = store.con
    spec = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in (*NAMES, "seq"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sync_in AS SELECT * FROM read_csv({_lit(path)}, {_CSV_IN.format(cols=spec)})")
    checks = [f"CASE WHEN {n} IS NULL THEN {'true' if n in REQUIRED else 'false'} "
              f"ELSE TRY_CAST({n} AS {TYPES[n]}) IS NULL END" for n in NAMES]
    reason = "concat_ws(', ', " + ", ".join(f"CASE WHEN {c} THEN {_lit(n)} END" for n, c in zip(NAMES, checks)) + ")"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _sync_in_checked AS SELECT *, TRY_CAST(seq AS BIGINT) AS seq_n,
        {reason} AS bad FROM _sync_in""")
    rows, max_seq = con.execute("SELECT count(*), max(seq_n) FROM _sync_in_checked").fetchone()
    bad = con.execute("SELECT coalesce(seq_n, -1), tool, bad FROM _sync_in_checked WHERE bad <> '' OR seq_n IS NULL").fetchall()
    if bad:
        now = utcnow()
        problems = [(origin, int(s), "sync-bad-row", f"hub row unreadable: {b or 'seq'} missing or not a valid value"[:300],
                     None, t if t else None, None, now) for s, t, b in bad]
        store.ingest(Batch(problems=problems))
    typed = ", ".join(f"CAST({n} AS {TYPES[n]}) AS {n}" for n in NAMES)
    good = f"SELECT {typed} FROM _sync_in_checked WHERE bad = '' AND seq_n IS NOT NULL"
    result = store.import_events(good) if rows > len(bad) else IngestResult()
    after = ("UPDATE sync_state SET pulled_seq = greatest(pulled_seq, ?)", [int(max_seq)]) if max_seq is not None else None
    _remember(store, f"SELECT event_id, rank FROM ({good})", after)
    return Pulled(int(rows), int(max_seq) if max_seq is not None else None, result, len(bad))
