"""The daemon: live tailing of every source root, and the only read-write connection to the store.

A small coordinator over four parts, each in its own module and thread:

- **watcher** (``logscan.service.watcher``): the watchdog observer; marks what changed in a
  ``Pending`` set and never does I/O in its handlers.
- **writer** (``logscan.service.writer``): the single read-write connection and the one thread
  that uses it; reads what is pending, commits, reconciles, and runs the writes other processes
  ask for as jobs between batches.
- **query server** (``logscan.service.queryserver``): the Unix socket, one JSON object per line
  (``logscan.service.protocol``), read-only queries on their own cursors.
- **status** (``logscan.service.health``): what ``logscan status`` shows.

The main thread handles signals (SIGTERM/SIGINT: clean stop with the last batch committed;
SIGHUP: reconcile) and systemd notifications (``logscan.service.sdnotify``). Writes other
commands need while the daemon runs are registered in ``logscan.service.calls.CALLS``; use
``logscan.service.client.run_write(db, target, args)``, which also works when no daemon runs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from logscan.service.logs import event
from logscan.service.queryserver import QueryServer
from logscan.service.watcher import Pending, Watcher
from logscan.service.writer import Writer


class Daemon:
    """Configure with the store ``db`` and the ``roots`` to watch (None: every default root), then
    ``run()`` (blocks until a signal or ``stop()``) or ``start()``/``shutdown()`` for tests."""

    def __init__(
        self,
        db: Path,
        roots: list[Path] | None = None,
        *,
        sock: Path | None = None,
        poll: bool = False,
        poll_interval: float = 10.0,
        debounce: float = 0.2,
        reconcile_interval: float = 120.0,
        health_interval: float = 10.0,
        query_timeout: float = 300.0,
        batch_events: int = 20_000,
        flush_every: float = 1.0,
        lock_wait: float = 30.0,
        render: Any = None,
    ) -> None:
        from logscan.paths import socket_path

        self.db = Path(db).expanduser().resolve()
        self.explicit_roots = roots is not None
        self.roots = [Path(r).expanduser().absolute() for r in roots] if roots is not None else []
        self.sock_path = Path(sock or socket_path()).expanduser().absolute()
        self.writer_options = {"debounce": debounce, "reconcile_interval": reconcile_interval, "health_interval": health_interval,
                               "batch_events": batch_events, "flush_every": flush_every}
        self.health_interval = health_interval
        self.lock_wait = lock_wait
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.pending = Pending(self.wake)
        self.watcher = Watcher(self.roots, self.pending, poll=poll, poll_interval=poll_interval)
        self.server = QueryServer(self.db, self.sock_path, writer=None, status=self.status, query_timeout=query_timeout)
        self.server.render = render  # reports for thin clients (see QueryServer.render)
        self.writer: Any = None
        self.store: Any = None
        self._threads: list[threading.Thread] = []
        self.started_at = time.time()
        self.exit_code = 0

    # -- what tests and status read ------------------------------------------------------
    @property
    def ing(self) -> Any:
        return self.writer.ing if self.writer is not None else None

    @property
    def initial_scan_done(self) -> bool:
        return bool(self.writer is not None and self.writer.initial_scan_done)

    def files_tracked(self) -> int:
        return self.writer.files_tracked() if self.writer is not None else 0

    def status(self) -> dict[str, Any]:
        from logscan.service.health import daemon_status

        return daemon_status(db=self.db, sock_path=self.sock_path, started_at=self.started_at, watcher=self.watcher,
                             writer=self.writer, cursor=self.server.cursor())

    # -- lifecycle -----------------------------------------------------------------------
    def run(self) -> int:
        """Start everything, block until SIGTERM/SIGINT (or ``stop()``), shut down cleanly."""
        from logscan.service.sdnotify import Notifier

        notifier = Notifier()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGHUP, self._on_hup)
        try:
            self.start()
        except BaseException:
            self.shutdown()
            raise
        w = self.watcher
        notifier.ready(f"watching {len(w.root_watches)} roots; initial scan running")
        event(logging.INFO, "ready", pid=os.getpid(), db=self.db, socket=self.sock_path, observer=w.kind,
              roots=",".join(map(str, w.root_watches)) or "-", waiting_for=",".join(str(r) for r in w.pending_roots()) or "-")
        ping = notifier.watchdog_interval
        told_scan = False
        while not self.stopping.is_set():
            self.stopping.wait(min(ping, 5.0) if ping else 5.0)
            worker = self._threads[0] if self._threads else None
            if worker is not None and not worker.is_alive() and not self.stopping.is_set():
                event(logging.ERROR, "worker thread died; stopping so the service manager restarts logscan")
                self.exit_code = 1
                break
            if ping and time.monotonic() - self.writer.heartbeat < max(ping * 2, 3 * self.health_interval):
                notifier.watchdog()
            if self.initial_scan_done and not told_scan:
                told_scan = True
                notifier.status(f"watching {len(w.root_watches)} roots, {self.files_tracked()} files")
        notifier.stopping()
        event(logging.INFO, "stopping")
        self.shutdown()
        event(logging.INFO, "stopped", events_committed=self.writer.events_committed if self.writer else 0,
              flushes=self.writer.flushes if self.writer else 0)
        return self.exit_code

    def _on_signal(self, signum: int, frame: Any) -> None:
        event(logging.INFO, "signal received", signal=signal.Signals(signum).name)
        self.stop()

    def _on_hup(self, signum: int, frame: Any) -> None:
        self.pending.request_reconcile()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def start(self) -> None:
        from logscan.store.readonly import lock_down
        from logscan.store.store import Store

        if not self.explicit_roots:
            from logscan.sources.locations import default_roots

            self.roots[:] = default_roots()  # the watcher and the writer share this list
        self.server.check_socket_free()
        # The lock may be held briefly by a backfill that is finishing: wait for it.
        self.store = Store.open(self.db, wait=self.lock_wait)
        self._tune(self.store.con)
        # From here on this DuckDB instance reads and writes no file but the store and its
        # staging directory: user SQL on its cursors cannot reach the file system.
        lock_down(self.store.con, self.db)
        self.writer = Writer(self.store, self.roots, self.pending, self.stopping, health=self.watcher.health,
                             check_roots=self.watcher.check_roots, **self.writer_options)
        self.server.writer = self.writer
        self.server.bind(self.store.con.cursor())
        t = threading.Thread(target=self.writer.run, name="logscan-worker", daemon=True)
        self._threads.append(t)
        self._threads.append(self.server.serve())
        # Watch first, then scan (the writer's first pass is a full reconcile).
        self.watcher.start()
        t.start()
        self.wake.set()

    @staticmethod
    def _tune(con: Any) -> None:
        """A long-lived process: hand freed memory back to the OS instead of keeping up to 128 MB
        of DuckDB allocations cached (the daemon's RSS target is 120 MiB)."""
        import duckdb

        for sql in os.environ.get("LOGSCAN_DAEMON_DUCKDB", "SET allocator_flush_threshold = '8MB'; SET allocator_background_threads = true").split(";"):
            if sql.strip():
                try:
                    con.execute(sql)
                except duckdb.Error as e:
                    event(logging.WARNING, "DuckDB setting refused", sql=sql.strip(), error=str(e))

    def shutdown(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.watcher.stop()
        for t in self._threads[:1]:  # the writer commits its last batch
            t.join(timeout=60)
        self.server.close()
        if self.store is not None:
            self.store.close()
            self.store = None
