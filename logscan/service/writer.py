"""The daemon's single writer: the only read-write connection to the store and the one thread that
uses it.

The writer thread waits for a wake-up, debounces, takes what the watcher marked (``Pending``) and
lets the ``Ingestor`` read each file from its stored offset (replacement, truncation and rewrites
are detected there; a deleted file gets ``files.missing_since`` and its events stay). It commits
after every drain and at least every ``flush_every`` seconds during a long scan, then calls
``logscan.ingest.hooks.after_flush``. A reconcile scan runs at start, every
``reconcile_interval`` seconds and whenever one is requested (inotify overflow, observer
restart, SIGHUP, a failed commit). An exception while reading one file is logged, stored as a
problem (kind ``daemon-error``) and the file is retried on the next reconcile.

Writes other processes ask for (``backfill`` and the registered ``call`` targets of
``logscan.service.calls``) are jobs: ``submit`` queues one and waits; the writer runs it between
batches, so there is still a single writer.
"""

from __future__ import annotations

import importlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import fields
from pathlib import Path
from typing import Any

from logscan.errors import LogscanError
from logscan.service.logs import event, log
from logscan.service.watcher import Pending


def trim_memory() -> None:
    """Give freed heap pages back to the OS (glibc keeps them per thread arena otherwise)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (musl): nothing to do


SQLITE_SETTLE_S = 0.5


class Writer:
    """Owns ``store`` (opened read-write by the daemon) once ``run`` starts in its thread.

    ``health`` is called every ``health_interval`` seconds and ``check_roots`` when a root may
    have appeared; both come from the watcher. Counters (``flushes``, ``events_committed``,
    ``errors``, ``last_error``, ``last_flush_at``, ``last_commit_lag``, ``heartbeat``) are read by
    the status report from other threads; they are plain values, written only here."""

    def __init__(
        self,
        store: Any,
        roots: list[Path],
        pending: Pending,
        stopping: threading.Event,
        *,
        health: Callable[[], None],
        check_roots: Callable[[], None],
        debounce: float = 0.2,
        reconcile_interval: float = 120.0,
        health_interval: float = 10.0,
        batch_events: int = 20_000,
        flush_every: float = 1.0,
    ) -> None:
        self.store = store
        self.roots = roots
        self.pending = pending
        self.stopping = stopping
        self.health = health
        self.check_roots = check_roots
        self.debounce = debounce
        self.reconcile_interval = reconcile_interval
        self.health_interval = health_interval
        self.batch_events = batch_events
        self.flush_every = flush_every
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self.retry: set[str] = set()
        # SQLite sources (opencode.db) read again shortly after a change was read: inotify fires
        # when a commit's frames are written to the -wal, which can be a moment before SQLite
        # publishes them to readers (the wal-index), so a read at that moment sees the rows
        # before the commit while the file already looks read. The watermark makes it harmless.
        self.recheck: dict[str, float] = {}
        self.heartbeat = time.monotonic()
        self.last_flush_at: float | None = None
        self.last_commit_lag: float | None = None
        self.last_reconcile_at: float | None = None
        self.initial_scan_done = False
        self.flushes = 0
        self.events_committed = 0
        self.errors = 0
        self.last_error: str | None = None
        self.commit_failures = 0  # consecutive failed commits (a full disk, a read-only mount)
        self.failing_since: float | None = None  # monotonic time of the first of them
        self.retry_at = 0.0  # no reading or committing before this (back-off while failing)
        self.ing = self._make_ingestor()

    # -- the ingestor --------------------------------------------------------------------
    def _make_ingestor(self) -> Any:
        from logscan.ingest.hooks import after_flush
        from logscan.ingest.ingestor import Ingestor
        from logscan.store.store import Batch

        writer = self

        class DaemonIngestor(Ingestor):  # type: ignore[misc]
            last_flush = time.monotonic()

            def process(self, path: str, st: os.stat_result | None = None) -> None:
                writer.heartbeat = time.monotonic()
                super().process(path, st)
                if self.batch and time.monotonic() - self.last_flush >= writer.flush_every:
                    self.flush()

            def flush(self) -> None:
                self.last_flush = time.monotonic()
                if not self.batch:
                    return
                before = self.summary.new_events
                try:
                    super().flush()
                except Exception as e:
                    # Nothing of the batch was committed: forget the positions it advanced and
                    # read those files again, after a back-off (1 s, 2 s, ... at most 60 s).
                    writer.commit_failed(e)
                    self.batch = Batch()
                    self.states = self.store.file_states()
                    return
                writer.commit_failures, writer.failing_since = 0, None
                writer.flushes += 1
                writer.events_committed += self.summary.new_events - before
                writer.last_flush_at = time.time()
                after_flush(self.store)

        return DaemonIngestor(self.store, batch_events=self.batch_events)

    def commit_failed(self, e: BaseException) -> None:
        now = time.monotonic()
        self.commit_failures += 1
        self.failing_since = self.failing_since or now
        delay = min(60.0, 2.0 ** (self.commit_failures - 1))
        self.retry_at = now + delay
        self.pending.reconcile_requested = True
        self.error(f"commit failed ({self.commit_failures} in a row); nothing is lost, retrying in {delay:g} s", e)

    def backing_off(self) -> bool:
        return self.commit_failures > 0 and time.monotonic() < self.retry_at

    def error(self, what: str, e: BaseException, **kv: Any) -> None:
        self.errors += 1
        self.last_error = f"{what}: {type(e).__name__}: {e}"[:500]
        log.error(what, exc_info=e, extra={"kv": kv})

    def files_tracked(self) -> int:
        return sum(1 for s in list(self.ing.states.values()) if s.missing_since is None)

    # -- jobs from other threads ---------------------------------------------------------
    def submit(self, fn: Callable[[], Any], timeout: float) -> dict[str, Any]:
        """Run ``fn()`` on the writer thread; a protocol reply with its encoded result."""
        from logscan.service.protocol import encode_value

        if self.stopping.is_set():
            return {"ok": False, "error": "internal", "message": "The daemon is shutting down; try again when it is back."}
        fut: Future[Any] = Future()
        self.jobs.put((fn, fut))
        self.pending.wake.set()
        try:
            result = fut.result(timeout=timeout)
        except FutureTimeout:
            return {"ok": False, "error": "timeout", "message": f"The daemon did not finish the write within {timeout:g} s; it goes on in the background."}
        except LogscanError as e:
            return {"ok": False, "error": "query", "message": str(e)}
        except Exception as e:
            return {"ok": False, "error": "internal", "message": f"{type(e).__name__}: {e}"}
        return {"ok": True, "result": encode_value(result)}

    def _run_jobs(self) -> None:
        while True:
            try:
                fn, fut = self.jobs.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as e:
                fut.set_exception(e)

    def _fail_jobs(self) -> None:
        while True:
            try:
                _, fut = self.jobs.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                fut.set_exception(LogscanError("The daemon is shutting down; run the command again (it will open the database itself)."))

    def job_backfill(self, paths: list[str]) -> dict[str, Any]:
        from logscan.ingest.plan import Summary
        from logscan.store.store import utcnow

        ing = self.ing
        ing.flush()
        saved = ing.summary
        ing.summary = Summary()
        ing._started = utcnow()
        try:
            roots = [Path(p) for p in paths] if paths else self.roots
            summary = ing.run([r for r in roots if r.exists()])
        finally:
            ing.summary = saved
        out = {f.name: getattr(summary, f.name) for f in fields(summary)}
        out["by_tool"] = dict(summary.by_tool)
        out["unpriced"] = dict(summary.unpriced)
        out["duplicates_dropped"] = summary.duplicates_dropped
        out["mb_per_s"] = summary.mb_per_s
        return out

    def job_call(self, target: str, args: dict[str, Any]) -> Any:
        from logscan.ingest.hooks import after_flush

        self.ing.flush()
        module, attr = target.split(":")
        result = getattr(importlib.import_module(module), attr)(self.store, **args)
        after_flush(self.store)
        return result

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """The writer thread's body: returns after the last batch is committed on stop."""
        next_reconcile = 0.0  # the initial scan
        next_health = time.monotonic() + self.health_interval
        wake = self.pending.wake
        while True:
            try:
                now = time.monotonic()
                timeout = max(0.0, min(next_reconcile, next_health, *self.recheck.values()) - now)
                if self.commit_failures:
                    timeout = max(0.0, min(timeout, self.retry_at - now))
                if wake.wait(timeout) and not self.stopping.is_set():
                    if self.jobs.empty():
                        self.stopping.wait(self.debounce)  # let a burst of writes settle
                wake.clear()
                self.heartbeat = time.monotonic()
                if self.stopping.is_set():
                    self._drain()
                    self.ing.flush()
                    self._fail_jobs()
                    return
                self._run_jobs()
                now = time.monotonic()
                if now >= next_health or self.pending.roots_changed:
                    if now >= next_health:
                        next_health = now + self.health_interval
                        trim_memory()
                        self.health()
                        self._periodic()
                    else:
                        self.check_roots()
                if self.backing_off():
                    continue  # what changed stays pending (status shows the lag and the error)
                if now >= next_reconcile or self.pending.reconcile_requested:
                    self._reconcile()
                    next_reconcile = time.monotonic() + self.reconcile_interval
                self._drain()
                self._recheck_due()
                self.ing.flush()
            except Exception as e:  # never let the writer die; try again shortly
                self.error("worker loop error", e)
                self.stopping.wait(1.0)

    def _periodic(self) -> None:
        """The periodic hooks (``logscan.ingest.hooks.PERIODIC``: the hub sync), between batches,
        on this thread, so the single writer stays single."""
        from logscan.ingest.hooks import run_periodic

        self.ing.flush()
        run_periodic(self.store)

    def _process(self, path: str, st: os.stat_result | None = None) -> None:
        from logscan.store.store import utcnow

        try:
            self.ing.process(path, st)
        except Exception as e:
            self.error("reading a file failed; retrying on the next reconcile", e, path=path)
            prev = self.ing.states.get(path)
            self.ing.batch.problems.append(
                (path, prev.offset if prev else 0, "daemon-error", f"{type(e).__name__}: {e}"[:300], 0, None, None, utcnow())
            )
            self.retry.add(path)

    def _drain(self) -> None:
        batch, dirs = self.pending.take()
        for d in sorted(dirs):
            self._scan_dir(d)
        if not batch:
            return
        read = []
        for path in sorted(batch):
            unchanged = self.ing.summary.files_unchanged
            self._process(path)
            if self.ing.summary.files_unchanged == unchanged:
                read.append(path)
        self.ing.flush()
        # Only a database that was read is read again once it settled: rechecking one that was
        # unchanged would open it, and SQLite's open and close of its -wal is itself an event
        # (a loop that re-read an idle opencode.db about once a second while OpenCode ran).
        self._schedule_recheck(read)
        self.last_commit_lag = time.monotonic() - min(batch.values())

    def _recheck_due(self) -> None:
        now = time.monotonic()
        for path in [p for p, at in self.recheck.items() if at <= now]:
            del self.recheck[path]
            prev = self.ing.states.get(path)
            if prev is not None:
                prev.mtime_ns = -1  # not "unchanged": read past the watermark once more
            self._process(path)

    def _schedule_recheck(self, paths: Any) -> None:
        from logscan.sources.parsers import PARSERS

        for path in paths:
            prev = self.ing.states.get(path)
            parser = PARSERS.get(prev.tool) if prev is not None else None
            if parser is not None and parser.reader == "sqlite":
                self.recheck[path] = time.monotonic() + SQLITE_SETTLE_S

    def _scan_dir(self, d: str) -> None:
        """A directory appeared, moved or vanished: read what is in it and notice what is gone."""
        from logscan.ingest.discovery import walk
        from logscan.sources.parsers import candidates

        prefix = d.rstrip("/") + "/"
        seen: set[str] = set()
        if os.path.isdir(d):
            for path in walk(Path(d)):
                if candidates(path):
                    seen.add(path)
                    self._process(path)
        for path, s in list(self.ing.states.items()):
            if path.startswith(prefix) and path not in seen and s.missing_since is None:
                self._process(path)  # gone: gets missing_since

    def _reconcile(self) -> None:
        self.pending.reconcile_requested = False
        t0 = time.monotonic()
        roots = [r for r in self.roots if r.exists()]
        todo, new_bytes = self.ing.plan(roots)
        for path, st in todo:
            if self.stopping.is_set():
                break
            self._process(path, st)
        for root in self.roots:
            if not root.exists():
                self._scan_dir(str(root))
        for path in sorted(self.retry - {p for p, _ in todo}):
            self._process(path)
        self.retry.clear()
        self.ing.flush()
        self.last_reconcile_at = time.time()
        trim_memory()
        level = logging.INFO if not self.initial_scan_done or new_bytes else logging.DEBUG
        event(level, "initial scan done" if not self.initial_scan_done else "reconcile done",
              files=len(todo), new_bytes=new_bytes, seconds=round(time.monotonic() - t0, 3))
        self.initial_scan_done = True
