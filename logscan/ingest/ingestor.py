"""From files on disk to committed events: discovery, incremental reading, parsing, pricing and
batching. Used by ``logscan backfill`` and by the daemon's worker.

For every file the stored (dev, inode, size, mtime, offset, head hash) decides what to read: an
unchanged file is skipped without being opened, a grown one is read from its offset, a replaced,
truncated or rewritten one from 0. Events, problems and the new offsets of a batch are committed
in one transaction (``Store.ingest``).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logscan.models import Event, Problem, QuotaSnapshot, Record
from logscan.sources.parsers import PARSERS, Parser, get_parser, parser_for
from logscan.pricing import Pricer
from logscan.quota.rows import snapshot_row
from logscan.quota.spool import claim_spool, release_spool
from logscan.sources.reader import Start, complete_blocks, head_hash, open_binary, read_head, records, start_position
from logscan.ingest.discovery import Found, discover
from logscan.ingest.plan import Summary, identity, planned_bytes, same_file
from logscan.store.store import Batch, FileState, Store, is_utf8, storable, utcnow


ProgressFn = Callable[[int], None]
UNSTORABLE_NAME = "the file name is not valid UTF-8, so logscan cannot record where it stopped reading; rename the file to have it read"
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting worker processes costs more than it saves


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def likely_parallel(found: Found, db: Path, workers: int) -> bool:
    """A guess, made before the store is opened, that a backfill will parse in worker processes:
    at least PARALLEL_MIN_BYTES in files modified since the database file was last written (all
    of them when there is no database yet). ``logscan backfill`` then starts the workers early so
    they load while the store opens; the plan still decides what is read."""
    if workers < 2:
        return False
    try:
        since = db.stat().st_mtime_ns
    except OSError:
        since = -1
    fresh = sum(st.st_size for _, files in found for _, st in files if st.st_mtime_ns > since)
    return fresh >= PARALLEL_MIN_BYTES


class Ingestor:
    """Reads files into a store. Not thread-safe: one worker owns it."""

    def __init__(
        self,
        store: Store,
        *,
        pricer: Pricer | None = None,
        host: str | None = None,
        batch_events: int = 100_000,
        progress: ProgressFn | None = None,
        workers: int = 1,
    ) -> None:
        self.store = store
        self._pricer = pricer  # built on first use: a run with nothing new never imports prices
        self.host = host or socket.gethostname()
        self.batch_events = batch_events
        self.progress = progress
        self.workers = workers  # > 1: backfill parses files in that many processes
        self.states = store.file_states()
        self.batch = Batch()
        self.summary = Summary()
        self._started = utcnow()
        self._share = [0, 0]  # the current file's planned bytes and how many of them were reported

    @property
    def pricer(self) -> Pricer:
        if self._pricer is None:
            self._pricer = Pricer()
        return self._pricer

    # -- discovery ----------------------------------------------------------------------
    def plan(self, paths: Iterable[Path], found: Found | None = None) -> tuple[list[tuple[str, os.stat_result]], int]:
        """The files to look at under ``paths`` and how many bytes are new in them (``found``:
        what ``discover(paths)`` already returned, so the tree is not walked twice)."""
        todo: list[tuple[str, os.stat_result]] = []
        new_bytes = 0
        seen: set[str] = set()  # across roots: a file under two overlapping roots is listed once
        found = found if found is not None else discover(paths)
        for folder in getattr(found, "unreadable", []):
            # Not a silent gap: a problem row, counted in the summary; its files are not marked
            # missing (they may be there, unreadable).
            self.summary.unreadable_folders += 1
            seen.update(p for p in self.states if p.startswith(folder.rstrip("/") + "/"))
            self._problem(storable(folder), 0, "unreadable", f"this folder cannot be listed (permission denied?), so its logs are not counted: chmod u+rx {folder}"[:300], 0, None)
        for root, files in found:
            for path, st in files:
                seen.add(path)
                todo.append((path, st))
                new_bytes += planned_bytes(self.states.get(path), path, st)
            self._mark_missing_under(root, seen)
        return todo, new_bytes

    def _mark_missing_under(self, root: Path, seen: set[str]) -> None:
        prefix = str(root).rstrip("/") + "/"
        gone = [p for p, s in self.states.items() if (p == str(root) or p.startswith(prefix)) and p not in seen and s.missing_since is None]
        if gone:
            now = utcnow()
            for p in gone:
                self.states[p].missing_since = now
                self.batch.files[p] = self.states[p]
            self.summary.files_missing += len(gone)

    # -- the work -----------------------------------------------------------------------
    def run(self, paths: Iterable[Path]) -> Summary:
        todo, _ = self.plan(paths)
        return self.run_planned(todo)

    def run_planned(self, todo: Iterable[tuple[str, os.stat_result]]) -> Summary:
        t0 = time.perf_counter()
        todo = list(todo)
        big = sum(st.st_size for _, st in todo) >= PARALLEL_MIN_BYTES
        if self.workers > 1 and len(todo) > 1 and big:
            from logscan.ingest.parallel import run_parallel

            run_parallel(self, todo, self.workers)
        else:
            for path, st in todo:
                self.process(path, st)
        self.flush()
        self.summary.seconds = time.perf_counter() - t0
        self.summary.unpriced = self.unpriced_since(self._started)
        self.summary.by_tool.update(self.events_since(self._started))
        return self.summary

    def process(self, path: str, st: os.stat_result | None = None) -> None:
        """Read whatever is new in one file into the current batch (flushing when it is full)."""
        s = self.summary
        s.files_seen += 1
        if not is_utf8(path):
            # Linux allows any bytes in a name; the store holds UTF-8 text only, so such a file
            # could never be given a read position. Reported (the name with U+FFFD), not read.
            s.files_unrecognized += 1
            self._problem(storable(path), 0, "unreadable", UNSTORABLE_NAME, 0, None)
            return
        try:
            st = st or os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                # A FIFO, socket or device named like a log: opening it could block forever.
                s.files_unrecognized += 1
                self._problem(path, 0, "unreadable", "not a regular file (a FIFO, socket or device): skipped", 0, None)
                return
        except FileNotFoundError:
            prev = self.states.get(path)
            if prev is not None and prev.missing_since is None:
                prev.missing_since = utcnow()
                self.batch.files[path] = prev
                s.files_missing += 1
            return
        prev = self.states.get(path)
        if prev is not None and same_file(prev, path, st):
            if prev.missing_since is not None:
                prev.missing_since = None
                self.batch.files[path] = prev
            s.files_unchanged += 1
            return
        self._share = [planned_bytes(prev, path, st), 0]
        try:
            self._read_file(path, st, prev)
        finally:
            self._advance(self._share[0])  # the file's whole share, however much it turned out to hold
            self._share = [0, 0]
        self._maybe_flush()

    def _advance(self, n: float) -> None:
        """Move the progress bar by ``n`` bytes of the current file, never past its planned share
        (``planned_bytes``), so the bar's total is exact: it ends at 100 %, not short of it."""
        share, done = self._share
        step = int(min(max(n, 0), share - done))
        if step > 0:
            self._share[1] = done + step
            if self.progress:
                self.progress(step)

    def _read_file(self, path: str, st: os.stat_result, prev: FileState | None) -> None:
        s = self.summary
        try:
            head = read_head(path)
            parser = self._parser(path, head, prev)
            if parser is None:
                s.files_unrecognized += 1
                return
            s.by_tool[getattr(parser, "tool", parser.name)] += 0  # make the tool visible even with no events
            with open_binary(path) as f:
                self._read(path, f, st, head, parser, prev)
        except OSError as e:
            self._problem(path, prev.offset if prev else 0, "unreadable", f"{type(e).__name__}: {e.strerror or e}", 0, None)

    def _parser(self, path: str, head: bytes, prev: FileState | None) -> Parser | None:
        if prev is not None and prev.tool in PARSERS:
            return get_parser(prev.tool)
        return parser_for(path, head)

    def _read(self, path: str, f: Any, st: os.stat_result, head: bytes, parser: Parser, prev: FileState | None) -> None:
        s = self.summary
        start = start_position(
            st.st_size,
            st.st_dev,
            st.st_ino,
            head,
            prev.dev if prev else None,
            prev.inode if prev else None,
            prev.offset if prev else 0,
            prev.head_hash if prev else None,
        )
        rows = parser.reader == "sqlite"
        if rows and start.reset != "replaced":
            start = Start(st.st_size, None)  # a database changes in place: the watermark in state says what is new
        state: dict[str, Any] = json.loads(prev.state) if prev and prev.state and start.reset is None else {}
        if not state:
            state = self._initial_state(parser, path)
        if start.reset:
            s.files_reset += 1
        now = utcnow()
        _, _, size, mtime_ns = identity(path, st, parser.name)  # taken before reading: later writes trigger a read
        fs = FileState(
            path=path,
            tool=parser.name,
            dev=st.st_dev,
            inode=st.st_ino,
            size=size,
            mtime_ns=mtime_ns,
            offset=start.offset,
            head_hash=head_hash(head),
            state=json.dumps(state) if state else None,
            parser_version=parser.version,
            first_seen=prev.first_seen if prev else now,
            updated_at=now,
        )
        s.files_read += 1
        if rows:
            self._read_rows(path, fs, parser, state)
            return
        whole = parser.reader == "json"
        if whole:
            # Whole-file formats are rewritten in place: parse the file whole; ids dedupe.
            data = f.read()
            blocks: Iterable[tuple[int, bytes]] = [(0, data)] if data.strip() else []
        else:
            blocks = complete_blocks(f, start.offset)
        for base, data in blocks:
            try:
                items = list(_parse(parser, path, base, data, state, whole))
            except Exception as e:  # a parser bug must not stop the others; the offset stays
                self._problem(path, base, "parser-error", f"{type(e).__name__}: {e}"[:300], len(data), parser)
                self._commit_file(fs)
                return
            self._take(items, parser)
            if whole:
                self._settle_whole_file(path, items)
            fs.offset = base + len(data)
            fs.state = json.dumps(state) if state else None
            s.bytes_read += len(data)
            self._advance(len(data))
            self._commit_file(fs)
            if self.batch.event_count >= self.batch_events:
                self.flush()
        self._commit_file(fs)

    def _settle_whole_file(self, path: str, items: list[Any]) -> None:
        """A whole JSON file is parsed again in full after every rewrite: when it now parses
        cleanly, an invalid-json problem from a read in the middle of a rewrite is stale."""
        if any(isinstance(x, Problem) and x.kind == "invalid-json" for x in items):
            while path in self.batch.cleared:
                self.batch.cleared.remove(path)
        else:
            self.batch.problems = [p for p in self.batch.problems if not (p[0] == path and p[2] == "invalid-json")]
            self.batch.cleared.append(path)

    def _read_rows(self, path: str, fs: FileState, parser: Parser, state: dict[str, Any]) -> None:
        """Reader "sqlite" (OpenCode's database): the parser's own ``read_rows(path, state)`` yields
        the records past the watermark the parser keeps in ``state``, in watermark order. Each
        chunk is parsed and its state committed in the same batch as its events."""
        s = self.summary
        chunk: list[Record] = []
        # read_rows may put "rows_total" (how many records it will yield) into the dict it gets:
        # the file's share of the progress bar is then spread over its records.
        hint = dict(state)
        rows = getattr(parser, "read_rows")(path, hint)  # noqa: B009  (not in the Parser protocol)
        done = 0
        try:
            while True:
                try:
                    item = next(rows, None)
                except Exception as e:  # locked, malformed or vanished database: the watermark stays
                    self._problem(path, 0, "unreadable", f"{type(e).__name__}: {e}"[:300], 0, parser)
                    item = None
                if isinstance(item, Problem):
                    self._problem(item.path, item.offset, item.kind, item.reason, item.length, parser)
                    continue
                if item is not None:
                    chunk.append(item)
                if chunk and (item is None or len(chunk) >= 2000):
                    try:
                        items = list(parser.parse(chunk, state))
                    except Exception as e:  # a parser bug must not stop the others; the watermark stays
                        self._problem(path, chunk[0].pos, "parser-error", f"{type(e).__name__}: {e}"[:300], 0, parser)
                        break
                    self._take(items, parser)
                    n = sum(r.size if hasattr(r, "size") else len(r.raw) for r in chunk)  # an assembled record gives its size
                    s.bytes_read += n
                    done += len(chunk)
                    total = hint.get("rows_total")
                    if isinstance(total, int) and total > 0:
                        self._advance(self._share[0] * min(done, total) / total - self._share[1])
                    fs.state = json.dumps(state) if state else None
                    self._commit_file(fs)
                    chunk = []
                    if self.batch.event_count >= self.batch_events:
                        self.flush()
                if item is None:
                    break
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
        self._commit_file(fs)

    def _initial_state(self, parser: Parser, path: str) -> dict[str, Any]:
        """Optional parser hook ``initial_state(path) -> dict``, called for a new or reset file:
        the one place a parser may read files outside the record (Gemini's projects.json and
        .project_root). Its result seeds ``state``; a failure means an empty state, not a crash."""
        hook = getattr(parser, "initial_state", None)
        if hook is None:
            return {}
        try:
            seeded = hook(path)
        except (OSError, ValueError):
            return {}
        return dict(seeded) if isinstance(seeded, dict) else {}

    def _commit_file(self, fs: FileState) -> None:
        # A copy: the batch must keep the position reached *now*, not later mutations.
        snap = FileState(**vars(fs))
        self.batch.files[fs.path] = snap
        self.states[fs.path] = snap

    def _take(self, items: Iterable[Any], parser: Parser) -> None:
        """What a parser yielded for one block, into the batch: events (priced), quota readings
        and problems; one ingest time for the block."""
        now = utcnow()
        for item in items:
            if isinstance(item, Event):
                self._event(item, now)
            elif isinstance(item, QuotaSnapshot):
                self.batch.snapshots.append(snapshot_row(item))
            else:
                self._problem(item.path, item.offset, item.kind, item.reason, item.length, parser)

    def _event(self, ev: Event, now: datetime) -> None:
        d = ev.__dict__  # the validated field values (this runs once per event)
        pricer = self.pricer
        p = pricer.price(
            d["provider"],
            d["model"],
            d["ts"],
            input_tokens=d["input_tokens"],
            output_tokens=d["output_tokens"],
            cache_read_tokens=d["cache_read_tokens"],
            cache_write_5m_tokens=d["cache_write_5m_tokens"],
            cache_write_1h_tokens=d["cache_write_1h_tokens"],
            web_search_requests=d["web_search_requests"],
            speed=d["speed"],
        )
        s = self.summary
        s.usage_records += d["copies"]
        self.batch.events.append(event_row(ev, p.cost_usd, p.status, p.priced_model, pricer.version, self.host, now))

    def _problem(self, path: str, offset: int, kind: str, reason: str, length: int, parser: Parser | None) -> None:
        self.batch.problems.append(
            (path, offset, kind, reason, length, parser.name if parser else None, parser.version if parser else None, utcnow())
        )

    def _maybe_flush(self, events: int | None = None) -> None:
        if self.batch.event_count >= min(events or self.batch_events, self.batch_events) or len(self.batch.files) >= 5000:
            self.flush()

    def flush(self) -> None:
        # Quota readings the statusline command spooled to disk ride along with every commit.
        claimed = claim_spool(self.batch)
        if not self.batch:
            return
        res = self.store.ingest(self.batch)
        release_spool(claimed)
        self.summary.new_events += res.new_events
        self.summary.updated_events += res.updated_events
        self.summary.new_problems += res.new_problems
        self.batch = Batch()

    def events_since(self, since: datetime) -> dict[str, int]:
        """Events per tool written (new or updated) since ``since``: the summary's "by tool",
        in the same unit as its "events" line."""
        _, rows = self.store.query("SELECT tool, count(*) FROM events WHERE ingested_at >= ? GROUP BY 1", [since], guard=False)
        return {t: n for t, n in rows}

    def unpriced_since(self, since: datetime) -> dict[str, int]:
        _, rows = self.store.query(
            "SELECT model, count(*) FROM events WHERE cost_usd IS NULL AND ingested_at >= ? GROUP BY 1 ORDER BY 2 DESC, 1",
            [since],
            guard=False,
        )
        return {m: n for m, n in rows}


def _parse(parser: Parser, path: str, base: int, data: bytes, state: dict[str, Any], whole: bool) -> Iterator[Any]:
    """Feed one block to a parser: a whole file as one record, or complete lines (through the
    parser's own ``parse_block`` when it has a faster way to read a block)."""
    if whole:
        return parser.parse(iter([Record(path, 0, data)]), state)
    block = getattr(parser, "parse_block", None)
    if block is not None:
        return block(path, base, data, state)  # type: ignore[no-any-return]
    return parser.parse(records(path, base, data), state)


def event_row(
    ev: Event, cost: float | None, status: str, priced_model: str | None, pricing_version: str, host: str, ingested_at: datetime | None = None
) -> tuple[Any, ...]:
    # Read from the model's __dict__ (where pydantic keeps field values): a third of the cost of
    # attribute access, and this runs once per event. Events hold aware UTC times already.
    d = ev.__dict__
    ts = d["ts"]
    ts = ts.replace(tzinfo=None) if ts.tzinfo is timezone.utc else ts.astimezone(timezone.utc).replace(tzinfo=None)
    inp, out, cr, cw5, cw1h = d["input_tokens"], d["output_tokens"], d["cache_read_tokens"], d["cache_write_5m_tokens"], d["cache_write_1h_tokens"]
    return (
        d["event_id"],
        d["tool"],
        d["provider"],
        d["model"],
        ts,
        d["session_id"],
        d["project"],
        d["is_sidechain"],
        d["agent_id"],
        d["message_id"],
        d["request_id"],
        inp,
        out,
        cr,
        cw5,
        cw1h,
        d["reasoning_tokens"],
        inp + out + cr + cw5 + cw1h,  # Event.total_tokens
        d["web_search_requests"],
        d["web_fetch_requests"],
        d["output_lower_bound"],
        d["speed"],
        cost,
        status,
        priced_model,
        pricing_version,
        host,
        d["source_path"],
        d["source_offset"],
        d["rank"],
        ingested_at or utcnow(),
    )
