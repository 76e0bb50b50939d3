"""The DuckDB store: the only module that writes SQL against logscan's tables.

One read-write connection belongs to whichever process ingests (the daemon, or a backfill when no
daemon runs). Everything else opens the file read-only. ``Store.ingest`` commits a batch of
events, problems and per-file read positions in ONE transaction, so a crash can never leave
events without the offset that covers them (or the other way round): re-reading replays at
most an uncommitted batch, and content-derived event ids make that replay harmless.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from logscan.errors import DatabaseBusy, MigrationError, NoDatabase, QueryError, ReadOnlyViolation
from logscan.store.damage import CorruptStore, corrupt_message, looks_corrupt
from logscan.store.migrations import EVENT_COLUMNS, migrate, pending
from logscan.paths import make_private_dir
from logscan.store.readonly import TABLES_HINT, connect_read_only, duckdb_module, stage_dir
from logscan.store.readonly import run as readonly_run

EVENT_NAMES = [n for n, _ in EVENT_COLUMNS]
# Which copy of an event id wins: the higher rank; among equal ranks the smaller host (one host's
# rows never tie on host, and across machines every store and a sync hub settle on the same row).
_WINS = "(s.rank > events.rank OR (s.rank = events.rank AND s.host < events.host))"
_ONE_PER_ID = "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY rank DESC, host, seq) = 1"
# Staging encoded event chunks (``encode_events``): one JSON line per chunk, {"k": its place in
# the batch, "c": its columns}; ``seq`` orders rows as they were staged.
_STAGE_EVENTS = (
    "INSERT INTO _stg_events SELECT * EXCLUDE (seq) FROM (SELECT "
    + ", ".join(f'unnest(c."{n}") AS "{n}"' for n in EVENT_NAMES)
    + ", k * 4294967296 + unnest(range(len(c.event_id))) AS seq FROM read_json(?, format = 'newline_delimited', "
    + "maximum_object_size = {size}, columns = {{'k': 'BIGINT', 'c': 'STRUCT("
    + ", ".join(f'"{n}" {t.split()[0]}[]' for n, t in EVENT_COLUMNS)
    + ")'}})) "
    + _ONE_PER_ID
)
_STAGING_SOURCES = {"_stg_events": "events", "_stg_problems": "problems", "_stg_files": "files", "_stg_snapshots": "quota_snapshots"}
FILE_COLUMNS = [
    "path",
    "tool",
    "dev",
    "inode",
    "size",
    "mtime_ns",
    "offset",
    "head_hash",
    "state",
    "parser_version",
    "first_seen",
    "updated_at",
    "missing_since",
]
PROBLEM_COLUMNS = ["path", "offset", "kind", "reason", "length", "tool", "parser_version", "recorded_at"]
SNAPSHOT_COLUMNS = [
    "snapshot_id",
    "tool",
    "window_kind",
    "scope",
    "used_percent",
    "resets_at",
    "captured_at",
    "source",
    "window_minutes",
    "credits",
    "plan",
    "zone_assumed",
    "source_path",
    "source_offset",
    "recorded_at",
    "note",
]



@dataclass
class FileState:
    path: str
    tool: str
    dev: int | None
    inode: int | None
    size: int
    mtime_ns: int | None
    offset: int
    head_hash: str | None
    state: str | None  # JSON of the parser's state
    parser_version: int | None
    first_seen: datetime
    updated_at: datetime
    missing_since: datetime | None = None

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in FILE_COLUMNS)


@dataclass
class Batch:
    """What one transaction commits."""

    events: list[tuple[Any, ...]] = field(default_factory=list)  # rows in EVENT_NAMES order
    problems: list[tuple[Any, ...]] = field(default_factory=list)  # rows in PROBLEM_COLUMNS order
    files: dict[str, FileState] = field(default_factory=dict)
    snapshots: list[tuple[Any, ...]] = field(default_factory=list)  # rows in SNAPSHOT_COLUMNS order
    # Event rows already encoded by ``encode_events`` (what a worker process sends): (rows, JSON).
    # They come before ``events`` in the batch's order.
    event_chunks: list[tuple[int, bytes]] = field(default_factory=list)
    # Whole-file JSON files that parsed cleanly this time: an invalid-json problem stored for
    # them earlier (the file read while it was being rewritten) is stale and is removed.
    cleared: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.event_chunks or self.problems or self.files or self.snapshots or self.cleared)

    @property
    def event_count(self) -> int:
        """Rows in ``events`` and ``event_chunks``. Asked after every file a worker returns, so the
        chunks' rows are summed incrementally: ``event_chunks`` only grows (merged results are
        appended), and only the chunks added since the last call are counted (summing them all
        each time made a backfill quadratic in the chunks per batch)."""
        chunks = self.event_chunks
        seen, total = self.__dict__.get("_counted", (0, 0))
        if seen > len(chunks) or chunks is not self.__dict__.get("_counted_list", chunks):
            seen, total = 0, 0  # the list was replaced: count it afresh
        for i in range(seen, len(chunks)):
            total += chunks[i][0]
        self.__dict__["_counted"] = (len(chunks), total)
        self.__dict__["_counted_list"] = chunks
        return len(self.events) + total

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a worker process's result), event rows travel encoded as the store stages
        them (``encode_events``): the parent hands them to DuckDB without ever turning them back
        into Python objects."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_counted")}
        if self.events:
            state["event_chunks"] = [*self.event_chunks, *encode_events(self.events)]
            state["events"] = []
        return state


CHUNK_ROWS = 4096  # event rows per encoded chunk
_SURROGATE = re.compile("[\ud800-\udfff]")


def encode_events(rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, bytes]]:
    """Event rows (EVENT_NAMES order) as chunks of at most CHUNK_ROWS rows, each one JSON object
    of columns: ``{"event_id": [...], "tool": [...], ...}``. DuckDB's JSON reader loads that
    several times faster than the appender takes rows, and exactly: 64-bit integers and doubles
    round-trip, naive UTC times are written as ISO 8601 text without an offset. A string with a
    lone surrogate (which has no UTF-8 form: the stdlib JSON fallback can produce one, and so can
    an undecodable file name) is stored with U+FFFD in its place."""
    out = []
    for i in range(0, len(rows), CHUNK_ROWS):
        part = rows[i : i + CHUNK_ROWS]
        columns = dict(zip(EVENT_NAMES, zip(*part)))
        try:
            data = orjson.dumps(columns)
        except TypeError:
            data = orjson.dumps(dict(zip(EVENT_NAMES, zip(*[tuple(map(storable, r)) for r in part]))))
        out.append((len(part), data))
    return out


def storable(v: Any) -> Any:
    """``v``, with U+FFFD for each lone surrogate when it is a string (DuckDB stores UTF-8 only)."""
    return _SURROGATE.sub("\ufffd", v) if type(v) is str else v


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class IngestResult:
    new_events: int = 0
    updated_events: int = 0
    sidechain_replays_dropped: int = 0
    new_problems: int = 0
    new_snapshots: int = 0


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _connect(path: Path, read_only: bool, wait: float, allow_files: bool = False) -> Any:
    duckdb = duckdb_module()
    deadline = time.monotonic() + wait
    while True:
        try:
            if read_only:
                return connect_read_only(path, allow_files=allow_files)
            return duckdb.connect(str(path))
        except duckdb.IOException as e:
            msg = str(e)
            locked = "set lock" in msg.lower() or "conflicting lock" in msg.lower()
            if not locked or time.monotonic() >= deadline:
                if locked:
                    pid = re.search(r"PID (\d+)", msg)
                    holder = f" by process {pid.group(1)}" if pid else ""
                    raise DatabaseBusy(
                        f"The database {path} is locked{holder}. If that is the logscan daemon, let it do the "
                        "ingesting (it already watches every source) or stop it first; otherwise close the "
                        "program holding the file and try again."
                    ) from e
                raise
            time.sleep(random.uniform(0.005, 0.015))


def _rollback(con: Any) -> None:
    """Roll back after a failed statement. DuckDB may have ended the transaction itself (an
    interrupted query, a failed commit on a full disk): a failing ROLLBACK then must not replace
    the real error ("cannot rollback - no transaction is active" hid "No space left on device")."""
    try:
        con.execute("ROLLBACK")
    except duckdb_module().Error:
        pass


_told_private: set[str] = set()


def make_private(db: Path) -> None:
    """Make an existing store private: the database and its WAL 0600, its directory 0700 when it
    is logscan's own (named ``logscan``), saying so once on stderr. Another user can read nothing."""
    import stat
    import sys

    changed = []
    targets = [db, db.with_name(db.name + ".wal")]
    if db.parent.name == "logscan":
        targets.append(db.parent)
    for p in targets:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid() or not st.st_mode & 0o077:
            continue
        want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        os.chmod(p, want)
        changed.append(f"{p} {stat.S_IMODE(st.st_mode):04o} -> {want:04o}")
    if changed and str(db) not in _told_private:
        _told_private.add(str(db))
        print(f"logscan: made the store private (other users could read it): {'; '.join(changed)}", file=sys.stderr)


class Store:
    def __init__(self, con: Any, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self._staging: set[str] | None = None  # staging tables that may hold rows (None: not made yet)

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, wait: float = 2.0, allow_files: bool = False) -> Store:
        """The store at ``path``: read-write (created and migrated as needed; one process at a
        time), or ``read_only`` for user SQL (``logscan.store.readonly``: no writes, no file
        access unless ``allow_files``). A damaged file raises ``CorruptStore`` (one line that
        points to ``logscan restore``), never a raw checksum error."""
        try:
            return cls._open(Path(path).expanduser(), read_only, wait, allow_files)
        except CorruptStore:
            raise
        except Exception as e:
            if looks_corrupt(e):
                raise CorruptStore(corrupt_message(Path(path).expanduser(), e)) from e
            raise

    @classmethod
    def _open(cls, path: Path, read_only: bool, wait: float, allow_files: bool) -> Store:
        if read_only:
            if not path.exists():
                raise NoDatabase(
                    f"No database at {path}. Run 'logscan backfill' to create it (or start 'logscan daemon'), "
                    "or pass --db / set LOGSCAN_DB to use another file."
                )
            con = _connect(path, True, wait, allow_files)
            todo = pending(con)
            if todo:
                con.close()
                raise MigrationError(
                    f"The database at {path} needs migrating ({todo[0]} to {todo[-1]}). "
                    "Run 'logscan backfill' or start the daemon, which migrate it."
                )
            return cls(con, path, True)
        make_private_dir(path.parent) if not path.parent.exists() else None
        make_private(path)
        old = os.umask(0o077)  # the database and its WAL are created private
        try:
            con = _connect(path, False, wait)
        finally:
            os.umask(old)
        migrate(con)
        return cls(con, path, False)

    def close(self) -> None:
        self.con.close()

    def set_threads(self, n: int | None) -> None:
        """DuckDB's worker threads for this connection; None restores its default (the cores)."""
        self.con.execute(f"SET threads = {int(n)}" if n else "RESET threads")

    def checkpoint(self) -> None:
        """Write the WAL into the database file now (closing does it otherwise)."""
        if not self.read_only:
            self.con.execute("CHECKPOINT")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------
    def file_states(self, tool: str | None = None) -> dict[str, FileState]:
        sql = f"SELECT {', '.join(_q(c) for c in FILE_COLUMNS)} FROM files"
        rows = self.con.execute(sql + (" WHERE tool = ?" if tool else ""), [tool] if tool else []).fetchall()
        return {r[0]: FileState(*r) for r in rows}

    def query(self, sql: str, params: Sequence[Any] | None = None, *, guard: bool = True) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run read-only SQL; return (column names, rows). With ``guard`` (user SQL) it goes through
        ``logscan.store.readonly.run``: one read statement, in a read-only transaction. Without,
        it is logscan's own SQL, run as given."""
        duckdb = duckdb_module()
        if guard:
            try:
                return readonly_run(self.con, sql, params)
            except duckdb.Error as e:
                raise QueryError(f"{e}\n{TABLES_HINT}") from e
        cur = self.con.cursor()
        try:
            try:
                res = cur.execute(sql, params or [])
            except duckdb.Error as e:
                raise QueryError(f"{e}\n{TABLES_HINT}") from e
            if res.description is None:
                return [], []
            return [d[0] for d in res.description], res.fetchall()
        finally:
            cur.close()

    def counts(self) -> dict[str, int]:
        ev, files, probs = self.con.execute(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM files), (SELECT count(*) FROM problems)"
        ).fetchone()
        return {"events": ev, "files": files, "problems": probs}

    # -- writing ------------------------------------------------------------------------
    def ingest(self, batch: Batch) -> IngestResult:
        """Commit events (merged by event_id, highest rank wins), problems and file positions
        together."""
        if self.read_only:
            raise ReadOnlyViolation(f"{self.path} is open read-only; ingest needs the writer.")
        con = self.con
        result = IngestResult()
        staged = self._stage(batch)
        con.execute("BEGIN TRANSACTION")
        try:
            if staged:
                self._merge_staged_events(staged, result)
            if batch.cleared:
                con.execute("DELETE FROM problems WHERE kind = 'invalid-json' AND list_contains(?, path)", [sorted(set(batch.cleared))])
            if batch.problems:
                before = con.execute("SELECT count(*) FROM problems").fetchone()[0]
                con.execute(
                    """INSERT INTO problems SELECT DISTINCT ON (path, "offset", kind) * FROM _stg_problems s
                    WHERE NOT EXISTS (SELECT 1 FROM problems p WHERE p.path = s.path AND p."offset" = s."offset" AND p.kind = s.kind)"""
                )
                result.new_problems = con.execute("SELECT count(*) FROM problems").fetchone()[0] - before
            if batch.snapshots:
                # Quota readings: the id is content-derived, so a replay adds nothing.
                before = con.execute("SELECT count(*) FROM quota_snapshots").fetchone()[0]
                con.execute(
                    """INSERT INTO quota_snapshots SELECT DISTINCT ON (snapshot_id) * FROM _stg_snapshots s
                    WHERE NOT EXISTS (SELECT 1 FROM quota_snapshots q WHERE q.snapshot_id = s.snapshot_id)"""
                )
                result.new_snapshots = con.execute("SELECT count(*) FROM quota_snapshots").fetchone()[0] - before
            if batch.files:
                con.execute("DELETE FROM files WHERE path IN (SELECT path FROM _stg_files)")
                con.execute("INSERT INTO files SELECT * FROM _stg_files")
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        return result

    def _merge_staged_events(self, staged: int, result: IngestResult) -> None:
        """Merge _stg_events (``staged`` rows, one per event id) into events, inside the caller's
        transaction: a new id is inserted, a known one is replaced only by a higher rank. Shared
        by ``ingest`` and ``import_events``. (Two statements: DuckDB's MERGE costs several times
        an INSERT with an anti-join, and the UPDATE runs only when some ids were known.)"""
        con = self.con
        inserted = con.execute(
            "INSERT INTO events SELECT * FROM _stg_events s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)"
        ).fetchone()[0]
        updated = 0
        if inserted < staged:  # the rows just inserted have the same rank as their staged copy: left alone
            sets = ", ".join(f"{c} = s.{c}" for c in EVENT_NAMES if c != "event_id")
            updated = con.execute(
                f"UPDATE events SET {sets} FROM _stg_events s WHERE events.event_id = s.event_id AND {_WINS}"
            ).fetchone()[0]
        # /btw side questions replay a parent message under a new request id: drop a
        # sidechain copy whenever the same message id has a non-sidechain entry.
        dropped = con.execute(
            """DELETE FROM events WHERE tool = 'claude-code' AND is_sidechain
            AND message_id IN (SELECT DISTINCT message_id FROM _stg_events
                               WHERE tool = 'claude-code' AND message_id IS NOT NULL)
            AND message_id IN (SELECT message_id FROM events m
                               WHERE m.tool = 'claude-code' AND NOT m.is_sidechain AND m.message_id IS NOT NULL)"""
        ).fetchone()[0]
        result.new_events = inserted - dropped
        result.updated_events = updated
        result.sidechain_replays_dropped = dropped

    def import_events(self, select_sql: str, params: Sequence[Any] | None = None) -> IngestResult:
        """Merge the rows of ``select_sql`` (columns named as in ``events``; missing nullable ones
        become NULL) exactly as ``ingest`` merges a batch, in one transaction: importing the same
        rows twice adds nothing."""
        if self.read_only:
            raise ReadOnlyViolation(f"{self.path} is open read-only; import needs the writer.")
        con = self.con
        self._stage(Batch())
        self._staging = {"_stg_events"}
        staged = con.execute(
            f"""INSERT INTO _stg_events BY NAME SELECT * EXCLUDE (seq) FROM
            (SELECT *, row_number() OVER () AS seq FROM ({select_sql})) {_ONE_PER_ID}""",
            params or [],
        ).fetchone()[0]
        result = IngestResult()
        con.execute("BEGIN TRANSACTION")
        try:
            self._merge_staged_events(staged, result)
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.execute("DELETE FROM _stg_events")
        return result

    def delete_events_before(self, before: datetime) -> int:
        """Delete events with ts < ``before`` (naive UTC) in one transaction; return how many."""
        if self.read_only:
            raise ReadOnlyViolation(f"{self.path} is open read-only; pruning needs the writer.")
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            n = con.execute("DELETE FROM events WHERE ts < ?", [before]).fetchone()[0]
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        return int(n)

    def _stage(self, batch: Batch) -> int:
        """Fill the staging tables from ``batch``; events are collapsed to one row per event id
        on the way in (the highest rank, the first staged among equals). Returns how many event
        rows were staged."""
        con = self.con
        if self._staging is None:  # once per connection (temporary tables live as long as it)
            for t, src in _STAGING_SOURCES.items():
                con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {t} AS SELECT * FROM {src} LIMIT 0")
            self._staging = set()
        for t in self._staging:  # what an earlier batch (or a failed one) left: replaced, not
            # emptied (a DELETE keeps the deleted rows' memory until the connection closes)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT * FROM {_STAGING_SOURCES[t]} LIMIT 0")
        # Marked before they are filled, so that rows of a batch that fails are cleared next time.
        self._staging = {t for t, rows in (("_stg_events", batch.events or batch.event_chunks), ("_stg_problems", batch.problems),
                                          ("_stg_files", batch.files), ("_stg_snapshots", batch.snapshots)) if rows}
        staged = 0
        chunks = [*batch.event_chunks, *encode_events(batch.events)] if batch.events else batch.event_chunks
        if chunks:
            staged = self._stage_event_chunks(chunks)
        if batch.problems:
            self._append("_stg_problems", batch.problems)
        if batch.snapshots:
            self._append("_stg_snapshots", batch.snapshots)
        if batch.files:
            self._append("_stg_files", [fs.row() for fs in batch.files.values()])
        return staged

    def _append(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """Append rows to a staging table. A string with a lone surrogate (an undecodable file name
        in a reason, say) has no UTF-8 form and makes the appender refuse the batch: then every
        row is appended again with U+FFFD in its place, rather than failing the commit forever."""
        con = self.con
        try:
            with con.appender(table) as ap:
                ap.append_rows(rows)
        except duckdb_module().InvalidInputException:
            if all(is_utf8(v) for r in rows for v in r if type(v) is str):
                raise
            con.execute(f"DELETE FROM {table}")
            with con.appender(table) as ap:
                ap.append_rows([tuple(map(storable, r)) for r in rows])

    def _stage_event_chunks(self, chunks: Sequence[tuple[int, bytes]]) -> int:
        # One line per chunk, {"k": its place, "c": its columns}, in a private temporary file
        # (mkstemp: mode 0600) in the store's staging directory, the one place the daemon's
        # DuckDB may read, that DuckDB's JSON reader loads in one statement.
        fd, tmp = tempfile.mkstemp(prefix="logscan-stage-", suffix=".ndjson", dir=stage_dir(self.path))
        try:
            with os.fdopen(fd, "wb") as f:
                for k, (_, data) in enumerate(chunks):
                    f.write(b'{"k":%d,"c":' % k)
                    f.write(data)
                    f.write(b"}\n")
            biggest = max(len(data) for _, data in chunks) + 64
            return int(self.con.execute(_STAGE_EVENTS.format(size=max(biggest, 1 << 24)), [tmp]).fetchone()[0])
        finally:
            os.unlink(tmp)

    def events_for_pricing(self, stale_for: str | None) -> list[tuple[Any, ...]]:
        """What pricing needs of each event; with ``stale_for``, only events priced under
        another pricing version or not priced at all."""
        sql = (
            "SELECT event_id, provider, model, ts, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, speed FROM events"
        )
        sql += " WHERE tool NOT IN ('cursor')"  # imported charges (Cursor's own) are facts, not computed here
        if stale_for is None:
            return self.con.execute(sql).fetchall()  # type: ignore[no-any-return]
        return self.con.execute(sql + " AND (cost_usd IS NULL OR pricing_version IS DISTINCT FROM ?)", [stale_for]).fetchall()  # type: ignore[no-any-return]

    def update_prices(self, rows: list[tuple[Any, ...]]) -> None:
        """Set (cost_usd, price_status, priced_model, pricing_version) by event_id, in one
        transaction."""
        if not rows:
            return
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _stg_prices (event_id BIGINT, cost_usd DOUBLE, price_status VARCHAR, priced_model VARCHAR, pricing_version VARCHAR)"
        )
        with con.appender("_stg_prices") as ap:
            ap.append_rows(rows)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                """UPDATE events SET cost_usd = p.cost_usd, price_status = p.price_status, priced_model = p.priced_model,
                   pricing_version = p.pricing_version FROM _stg_prices p WHERE events.event_id = p.event_id"""
            )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise

    def mark_missing(self, paths: Iterable[str]) -> None:
        """Record that files vanished (Claude Code deletes transcripts after 30 days); their
        events stay."""
        paths = list(paths)
        if not paths:
            return
        self.con.execute(
            "UPDATE files SET missing_since = coalesce(missing_since, now()::TIMESTAMP) WHERE path IN (SELECT unnest(?))", [paths]
        )


def _q(col: str) -> str:
    return f'"{col}"' if col == "offset" else col
