"""The daemon: live tailing of every source root, and the only read-write connection to the store.

Threads (each stops and is joined on shutdown):

- **observer** (watchdog: inotify on Linux, FSEvents on macOS, ``PollingObserver`` with
  ``--poll``): one recursive watch per root, never per file, with an ``event_filter`` so the
  watch ignores open/access noise. The handler does no I/O: it only marks a path dirty and wakes
  the worker. A root that does not exist yet is waited for by a directory-only watch on its
  nearest existing parent (and re-checked at every health check).
- **worker** (one): waits for a wake-up, debounces, swaps the dirty set and lets the
  ``Ingestor`` read each file from its stored offset (replacement, truncation and rewrites are
  detected there; a deleted file gets ``files.missing_since`` and its events stay). It commits
  after every drain and at least every second during a long scan, then calls
  ``logscan.ingest.hooks.after_flush``. A reconcile scan runs at start (after the observer, so nothing
  created in between is missed), every ``reconcile_interval`` seconds, after an inotify queue
  overflow and after an observer restart. An exception while reading one file is logged, stored
  as a problem (kind ``daemon-error``) and the file is retried on the next reconcile.
- **socket server** (a thread per request): the Unix socket (``logscan.paths.socket_path()``,
  mode 0600 in a 0700 directory) speaks one JSON object per line (see ``logscan.service.client``).
- **main**: signals (SIGTERM/SIGINT: clean stop with the last batch committed; SIGHUP:
  reconcile) and systemd notifications (``logscan.service.sdnotify``).

Socket operations::

    {"op": "ping"}                                   -> {"ok": true, "pid": ..., "db": ...}
    {"op": "status"}                                 -> {"ok": true, "status": {...}}
    {"op": "query", "sql": ..., "params": [...], "timeout": s, "tz": "Europe/Paris"}
        read-only statements only (``logscan.store.store.check_read_only``), on a fresh cursor, and
        interrupted (``cursor.interrupt()``) after the timeout.
    {"op": "backfill", "paths": ["/dir", ...]}       -> {"ok": true, "result": {summary}}
    {"op": "call", "target": "module:function", "args": {...}} -> {"ok": true, "result": ...}

Every request may carry ``"db"`` (the absolute database path); a daemon serving another file
answers ``{"ok": false, "error": "wrong-db"}`` and the client falls back to opening its own.

Writes (``backfill`` and ``call``) run in the worker thread between batches, so there is still a
single writer. ``call`` runs ``fn(store, **args)`` and only for targets listed in ``CALLS``
below: that list is the one place to register a write other commands need while the daemon runs
(for example quota snapshots). Use ``logscan.service.client.run_write(db, target, args)``, which also
works when no daemon runs.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from logscan.errors import LogscanError
from logscan.service.calls import check_call_allowed
from logscan.service.protocol import MAX_REQUEST, dumps

log = logging.getLogger("logscan.service.daemon")

SUN_PATH_MAX = 104 if sys.platform == "darwin" else 108


# -- structured logs -----------------------------------------------------------------------
class KeyValueFormatter(logging.Formatter):
    """One line per record: ``ts=... level=info logger=... msg="..." key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "kv", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info).replace("\n", " | ")
        return " ".join(f"{k}={_kv(v)}" for k, v in fields.items())


def _kv(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return json.dumps(s)
    return s


def setup_logging(level: int = logging.INFO, stream: Any = None) -> None:
    h = logging.StreamHandler(stream or sys.stderr)
    h.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [h]
    root.setLevel(level)
    logging.getLogger("watchdog").setLevel(logging.WARNING)


def event(level: int, msg: str, **kv: Any) -> None:
    log.log(level, msg, extra={"kv": kv})


# -- watchdog glue -------------------------------------------------------------------------
class _DirtyHandler:
    """Marks paths dirty. No I/O and nothing that can raise: an exception here kills the observer."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def dispatch(self, ev: Any) -> None:
        try:
            paths = [ev.src_path, getattr(ev, "dest_path", "") or ""]
            if ev.is_directory:
                if ev.event_type in ("created", "moved", "deleted"):
                    for p in paths:
                        if p:
                            self.daemon.mark_dir(os.fsdecode(p))
                return
            for p in paths:
                if p:
                    self.daemon.mark(os.fsdecode(p))
        except Exception:  # noqa: S110 - see the class docstring
            pass


class _ParentHandler:
    """On the nearest existing parent of a root that does not exist yet: any directory change
    makes the worker re-check the roots."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def dispatch(self, ev: Any) -> None:
        try:
            self.daemon.roots_changed = True
            self.daemon.wake.set()
        except Exception:  # noqa: S110
            pass


class _OverflowHook(logging.Handler):
    """watchdog logs an inotify queue overflow but does not tell the handler what changed."""

    def __init__(self, daemon: Daemon) -> None:
        super().__init__(logging.WARNING)
        self.daemon = daemon

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.daemon.reconcile_requested = True
            self.daemon.wake.set()


# -- socket server -------------------------------------------------------------------------
class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 256
    block_on_close = False
    owner: Daemon


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30  # for reading the request and writing the reply; queries have their own

    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        try:
            line = self.rfile.readline(MAX_REQUEST)
            if not line:
                return
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request is a JSON object")
            reply = server.owner.handle_request(req)
        except (ValueError, KeyError, TypeError) as e:
            reply = {"ok": False, "error": "bad-request", "message": f"Bad request to the logscan daemon: {e}"}
        except Exception as e:
            event(logging.ERROR, "request failed", error=f"{type(e).__name__}: {e}")
            reply = {"ok": False, "error": "internal", "message": f"{type(e).__name__}: {e}"}
        try:
            data = dumps(reply)
        except Exception as e:
            event(logging.ERROR, "reply not serializable", error=f"{type(e).__name__}: {e}")
            data = dumps({"ok": False, "error": "internal", "message": f"The result could not be sent: {type(e).__name__}: {e}"})
        try:
            self.wfile.write(data + b"\n")
        except OSError:
            pass  # the client went away


def _trim_memory() -> None:
    """Give freed heap pages back to the OS (glibc keeps them per thread arena otherwise)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (musl): nothing to do


# -- the daemon ----------------------------------------------------------------------------
class Daemon:
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
    ) -> None:
        from logscan.paths import socket_path

        self.db = Path(db).expanduser().resolve()
        self.explicit_roots = roots is not None
        self.roots = [Path(r).expanduser().absolute() for r in roots] if roots is not None else []
        self.sock_path = Path(sock or socket_path()).expanduser().absolute()
        self.poll = poll
        self.poll_interval = poll_interval
        self.debounce = debounce
        self.reconcile_interval = reconcile_interval
        self.health_interval = health_interval
        self.query_timeout = query_timeout
        self.batch_events = batch_events
        self.flush_every = flush_every
        self.lock_wait = lock_wait

        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._dirty_lock = threading.Lock()
        self.dirty: dict[str, float] = {}  # path -> monotonic time it was first marked
        self.dirty_dirs: set[str] = set()
        self.retry: set[str] = set()
        self.roots_changed = False
        self.reconcile_requested = False
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()

        self.store: Any = None
        self.ing: Any = None
        self.observer: Any = None
        self.root_watches: dict[Path, Any] = {}
        self.parent_watches: dict[str, Any] = {}
        self.server: _Server | None = None
        self._sock_ino: int | None = None
        self._qcon: Any = None
        self._qlock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._overflow_hook = _OverflowHook(self)

        self.started_at = time.time()
        self.heartbeat = time.monotonic()
        self.last_flush_at: float | None = None
        self.last_commit_lag: float | None = None
        self.last_reconcile_at: float | None = None
        self.initial_scan_done = False
        self.flushes = 0
        self.events_committed = 0
        self.errors = 0
        self.last_error: str | None = None
        self.observer_restarts = 0
        self.exit_code = 0

    # -- marking (observer threads) --------------------------------------------------------
    def mark(self, path: str) -> None:
        from logscan.sources.parsers import candidates

        if path.endswith("-wal"):  # SQLite sources (OpenCode): the WAL changes, not the db
            path = path[:-4]
        if not candidates(path):
            return
        with self._dirty_lock:
            self.dirty.setdefault(path, time.monotonic())
        self.wake.set()

    def mark_dir(self, path: str) -> None:
        with self._dirty_lock:
            self.dirty_dirs.add(path)
        self.wake.set()

    # -- lifecycle -------------------------------------------------------------------------
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
        notifier.ready(f"watching {len(self.root_watches)} roots; initial scan running")
        event(logging.INFO, "ready", pid=os.getpid(), db=self.db, socket=self.sock_path, observer=self.observer_kind,
              roots=",".join(map(str, self.root_watches)) or "-", waiting_for=",".join(str(r) for r in self.pending_roots()) or "-")
        ping = notifier.watchdog_interval
        told_scan = False
        while not self.stopping.is_set():
            self.stopping.wait(min(ping, 5.0) if ping else 5.0)
            worker = self._threads[0] if self._threads else None
            if worker is not None and not worker.is_alive() and not self.stopping.is_set():
                event(logging.ERROR, "worker thread died; stopping so the service manager restarts logscan")
                self.exit_code = 1
                break
            if ping and time.monotonic() - self.heartbeat < max(ping * 2, 3 * self.health_interval):
                notifier.watchdog()
            if self.initial_scan_done and not told_scan:
                told_scan = True
                notifier.status(f"watching {len(self.root_watches)} roots, {self.files_tracked()} files")
        notifier.stopping()
        event(logging.INFO, "stopping")
        self.shutdown()
        event(logging.INFO, "stopped", events_committed=self.events_committed, flushes=self.flushes)
        return self.exit_code

    def _on_signal(self, signum: int, frame: Any) -> None:
        event(logging.INFO, "signal received", signal=signal.Signals(signum).name)
        self.stop()

    def _on_hup(self, signum: int, frame: Any) -> None:
        self.reconcile_requested = True
        self.wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def start(self) -> None:
        from logscan.store.store import Store

        if not self.explicit_roots:
            from logscan.ingest.ingestor import default_roots

            self.roots = default_roots()
        self._check_socket_free()
        # The lock may be held briefly by a backfill that is finishing: wait for it.
        self.store = Store.open(self.db, wait=self.lock_wait)
        self._tune(self.store.con)
        self._qcon = self.store.con.cursor()
        self._bind()
        self.ing = self._make_ingestor()
        t = threading.Thread(target=self._worker, name="logscan-worker", daemon=True)
        self._threads.append(t)
        assert self.server is not None
        srv = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.5}, name="logscan-socket", daemon=True)
        self._threads.append(srv)
        srv.start()
        logging.getLogger("watchdog.observers").addHandler(self._overflow_hook)
        # Watch first, then scan (the worker's first pass is a full reconcile).
        self._start_observer()
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
        logging.getLogger("watchdog.observers").removeHandler(self._overflow_hook)
        if self.observer is not None:
            self._stop_observer(self.observer)
            self.observer = None
        for t in self._threads[:1]:  # the worker commits its last batch
            t.join(timeout=60)
        if self.server is not None:
            self.server.shutdown() if len(self._threads) > 1 and self._threads[1].is_alive() else None
            self.server.server_close()
            self._unlink_socket()
            self.server = None
        for t in self._threads[1:]:
            t.join(timeout=5)
        if self._qcon is not None:
            try:
                self._qcon.close()
            except Exception:  # noqa: S110
                pass
            self._qcon = None
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- socket ----------------------------------------------------------------------------
    def _check_socket_free(self) -> None:
        """Refuse to start when another daemon answers on our socket; remove a stale one."""
        path = self.sock_path
        if len(os.fsencode(str(path))) >= SUN_PATH_MAX:
            raise LogscanError(
                f"The socket path {path} is longer than this system allows ({SUN_PATH_MAX - 1} bytes). "
                "Set LOGSCAN_SOCKET to a shorter path, e.g. /tmp/logscan-$UID.sock."
            )
        parent = path.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700)
            os.chmod(parent, 0o700)
        elif parent.name.startswith("logscan") and parent.stat().st_uid == os.getuid():
            os.chmod(parent, 0o700)  # our own directory: keep it private
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise LogscanError(f"{path} exists and is not a socket. Remove it or set LOGSCAN_SOCKET to another path.")
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(1.0)
                    s.connect(str(path))
                    s.sendall(b'{"op": "ping"}\n')
                    answer = s.recv(4096)
            except OSError:
                answer = b""
            if answer:
                info = json.loads(answer)
                raise LogscanError(
                    f"A logscan daemon already answers on {path} (pid {info.get('pid')}, database {info.get('db')}). "
                    "Stop it first ('logscan service uninstall' or kill that pid), or set LOGSCAN_SOCKET for a second one."
                )
            path.unlink()  # stale: left by a daemon that was killed

    def _bind(self) -> None:
        path = self.sock_path
        if path.exists() or path.is_symlink():
            self._check_socket_free()
        old = os.umask(0o177)
        try:
            server = _Server(str(path), _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        server.owner = self
        self.server = server
        self._sock_ino = path.stat().st_ino

    def _unlink_socket(self) -> None:
        try:
            if self._sock_ino is not None and self.sock_path.stat().st_ino == self._sock_ino:
                self.sock_path.unlink()
        except OSError:
            pass

    def handle_request(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if "db" in req and req["db"] is not None and str(req["db"]) != str(self.db):
            return {"ok": False, "error": "wrong-db", "message": f"This daemon serves {self.db}, not {req['db']}."}
        if op == "ping":
            return {"ok": True, "pid": os.getpid(), "db": str(self.db)}
        if op == "status":
            return {"ok": True, "status": self.status()}
        if op == "query":
            return self._query(req)
        if op == "backfill":
            paths = [str(p) for p in req.get("paths") or []]
            return self._submit(lambda: self._job_backfill(paths), float(req.get("timeout") or 3600))
        if op == "call":
            from logscan.service.protocol import decode_value

            target = str(req.get("target"))
            try:
                check_call_allowed(target)
            except LogscanError as e:
                return {"ok": False, "error": "bad-request", "message": str(e)}
            args = {str(k): decode_value(v) for k, v in (req.get("args") or {}).items()}
            return self._submit(lambda: self._job_call(target, args), float(req.get("timeout") or 3600))
        return {"ok": False, "error": "bad-request", "message": f"Unknown op {op!r}; expected ping, status, query, backfill or call."}

    def _submit(self, fn: Callable[[], Any], timeout: float) -> dict[str, Any]:
        from logscan.service.protocol import encode_value

        if self.stopping.is_set():
            return {"ok": False, "error": "internal", "message": "The daemon is shutting down; try again when it is back."}
        fut: Future[Any] = Future()
        self.jobs.put((fn, fut))
        self.wake.set()
        try:
            result = fut.result(timeout=timeout)
        except FutureTimeout:
            return {"ok": False, "error": "timeout", "message": f"The daemon did not finish the write within {timeout:g} s; it goes on in the background."}
        except LogscanError as e:
            return {"ok": False, "error": "query", "message": str(e)}
        except Exception as e:
            return {"ok": False, "error": "internal", "message": f"{type(e).__name__}: {e}"}
        return {"ok": True, "result": encode_value(result)}

    def _query(self, req: dict[str, Any]) -> dict[str, Any]:
        import duckdb

        from logscan.service.protocol import decode_value, encode_value
        from logscan.errors import QueryError, ReadOnlyViolation
        from logscan.store.store import TABLES_HINT, check_read_only

        sql = req["sql"]
        if not isinstance(sql, str):
            raise TypeError("sql must be a string")
        params = [decode_value(p) for p in req.get("params") or []]
        timeout = min(float(req.get("timeout") or self.query_timeout), self.query_timeout)
        with self._qlock:
            if self._qcon is None:
                return {"ok": False, "error": "internal", "message": "The daemon is shutting down; try again."}
            cur = self._qcon.cursor()
        timer: threading.Timer | None = None
        interrupted = threading.Event()

        def interrupt() -> None:
            interrupted.set()
            cur.interrupt()

        try:
            tz = req.get("tz")
            if isinstance(tz, str) and tz and all(c.isalnum() or c in "/_+-:" for c in tz):
                try:
                    cur.execute(f"SET TimeZone = '{tz}'")
                except duckdb.Error:
                    pass  # not a zone DuckDB knows: keep the daemon's
            check_read_only(cur, sql)
            timer = threading.Timer(timeout, interrupt)
            timer.daemon = True
            timer.start()
            res = cur.execute(sql, params)
            columns = [d[0] for d in res.description] if res.description else []
            rows = res.fetchall() if res.description else []
            timer.cancel()
            return {"ok": True, "columns": columns, "rows": [[encode_value(x) for x in r] for r in rows]}
        except ReadOnlyViolation as e:
            return {"ok": False, "error": "read-only", "message": str(e)}
        except QueryError as e:
            return {"ok": False, "error": "query", "message": str(e)}
        except duckdb.Error as e:
            if interrupted.is_set():
                return {
                    "ok": False,
                    "error": "timeout",
                    "message": f"The query ran longer than {timeout:g} s and was interrupted. Narrow it "
                    "(e.g. WHERE ts >= now() - INTERVAL 7 DAY) or start the daemon with a larger --query-timeout.",
                }
            return {"ok": False, "error": "query", "message": f"{e}\n{TABLES_HINT}"}
        finally:
            if timer is not None:
                timer.cancel()
            cur.close()

    # -- status ----------------------------------------------------------------------------
    @property
    def observer_kind(self) -> str:
        if self.observer is None:
            return "none"
        name = type(self.observer).__name__
        return {"InotifyObserver": "inotify", "FSEventsObserver": "fsevents", "PollingObserver": "polling"}.get(name, name)

    def pending_roots(self) -> list[Path]:
        return [r for r in self.roots if r not in self.root_watches]

    def files_tracked(self) -> int:
        ing = self.ing
        if ing is None:
            return 0
        return sum(1 for s in list(ing.states.values()) if s.missing_since is None)

    def status(self) -> dict[str, Any]:
        from logscan.store.store import utcnow

        now = time.monotonic()
        with self._dirty_lock:
            oldest = min(self.dirty.values(), default=None)
            pending = len(self.dirty)
        counts: dict[str, Any] = {}
        with self._qlock:
            cur = self._qcon.cursor() if self._qcon is not None else None
        if cur is not None:
            try:
                row = cur.execute(
                    """SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM events WHERE ts >= ?),
                              (SELECT count(*) FROM problems), (SELECT max(ingested_at) FROM events)""",
                    [utcnow() - timedelta(hours=1)],
                ).fetchone()
                counts = {"events_total": row[0], "events_last_hour": row[1], "problems": row[2],
                          "last_ingested_at": row[3].isoformat() + "Z" if row[3] else None}
            finally:
                cur.close()
        states = list(self.ing.states.values()) if self.ing is not None else []
        obs = self.observer
        return {
            "pid": os.getpid(),
            "db": str(self.db),
            "socket": str(self.sock_path),
            "started_at": datetime.fromtimestamp(self.started_at, timezone.utc).isoformat().replace("+00:00", "Z"),
            "uptime_s": round(time.time() - self.started_at, 1),
            "observer": self.observer_kind,
            "observer_alive": bool(obs is not None and obs.is_alive()),
            "observer_restarts": self.observer_restarts,
            "roots_watched": [str(r) for r in self.root_watches],
            "roots_waiting": [str(r) for r in self.pending_roots()],
            "files_watched": sum(1 for s in states if s.missing_since is None),
            "files_missing": sum(1 for s in states if s.missing_since is not None),
            "pending_files": pending,
            "lag_s": round(now - oldest, 3) if oldest is not None else 0.0,
            "last_commit_lag_s": round(self.last_commit_lag, 3) if self.last_commit_lag is not None else None,
            "last_flush_at": datetime.fromtimestamp(self.last_flush_at, timezone.utc).isoformat().replace("+00:00", "Z") if self.last_flush_at else None,
            "initial_scan_done": self.initial_scan_done,
            "flushes": self.flushes,
            "events_committed": self.events_committed,
            "errors": self.errors,
            "last_error": self.last_error,
            **counts,
        }

    # -- observer --------------------------------------------------------------------------
    def _new_observer(self) -> Any:
        if self.poll:
            from watchdog.observers.polling import PollingObserver

            return PollingObserver(timeout=self.poll_interval)
        from watchdog.observers import Observer

        return Observer()

    def _start_observer(self) -> None:
        try:
            obs = self._new_observer()
            self.observer = obs
            self.root_watches.clear()
            self.parent_watches.clear()
            obs.start()
            self._check_roots(scan_new=False)
        except OSError as e:
            if self.poll:
                raise
            self._fall_back_to_polling(e)

    def _fall_back_to_polling(self, e: OSError) -> None:
        import errno

        hint = ""
        if e.errno == errno.ENOSPC:
            hint = "inotify watch limit reached; raise it with: sudo sysctl fs.inotify.max_user_watches=524288"
        elif e.errno == errno.EMFILE:
            hint = "inotify instance limit reached; raise it with: sudo sysctl fs.inotify.max_user_instances=512"
        event(logging.WARNING, "native file watching failed; polling instead", error=str(e), hint=hint or "-",
              poll_interval=self.poll_interval)
        if self.observer is not None:
            self._stop_observer(self.observer)
        self.poll = True
        self._start_observer()
        self.reconcile_requested = True

    def _stop_observer(self, obs: Any) -> None:
        try:
            obs.stop()
            obs.join(timeout=5)
        except Exception as e:  # a dead observer may complain; it is being replaced anyway
            event(logging.WARNING, "observer stop failed", error=f"{type(e).__name__}: {e}")

    def _watch_filter(self) -> list[Any]:
        from watchdog.events import (
            DirCreatedEvent,
            DirDeletedEvent,
            DirMovedEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileDeletedEvent,
            FileModifiedEvent,
            FileMovedEvent,
        )

        return [FileModifiedEvent, FileCreatedEvent, FileMovedEvent, FileDeletedEvent, FileClosedEvent,
                DirCreatedEvent, DirMovedEvent, DirDeletedEvent]

    def _check_roots(self, scan_new: bool = True) -> None:
        """Watch roots that exist now; wait for the others on their nearest existing parent."""
        from watchdog.events import DirCreatedEvent, DirMovedEvent, FileCreatedEvent, FileMovedEvent

        obs = self.observer
        if obs is None:
            return
        self.roots_changed = False
        for root, watch in list(self.root_watches.items()):
            if not root.exists():
                event(logging.WARNING, "root disappeared; waiting for it", root=root)
                try:
                    obs.unschedule(watch)
                except Exception:  # noqa: S110 - inotify already dropped a deleted directory
                    pass
                del self.root_watches[root]
                self.mark_dir(str(root))
        wanted_parents: set[str] = set()
        for root in self.roots:
            if root in self.root_watches:
                continue
            if root.is_dir():
                self.root_watches[root] = obs.schedule(_DirtyHandler(self), str(root), recursive=True, event_filter=self._watch_filter())
                event(logging.INFO, "watching root", root=root)
                if scan_new:
                    self.mark_dir(str(root))  # files created before the watch existed
                continue
            if root.exists():
                # A single-file source (OpenCode's opencode.db): watch its directory, not
                # recursively, so its -wal sibling is seen too.
                self.root_watches[root] = obs.schedule(_DirtyHandler(self), str(root.parent), recursive=False, event_filter=self._watch_filter())
                event(logging.INFO, "watching file", root=root)
                if scan_new:
                    self.mark(str(root))
                continue
            parent = root.parent
            while not parent.is_dir() and parent != parent.parent:
                parent = parent.parent
            wanted_parents.add(str(parent))
        for p, watch in list(self.parent_watches.items()):
            if p not in wanted_parents:
                try:
                    obs.unschedule(watch)
                except Exception:  # noqa: S110
                    pass
                del self.parent_watches[p]
        for p in wanted_parents - set(self.parent_watches):
            try:
                self.parent_watches[p] = obs.schedule(
                    _ParentHandler(self), p, recursive=False, event_filter=[DirCreatedEvent, DirMovedEvent, FileCreatedEvent, FileMovedEvent]
                )
            except OSError as e:
                event(logging.WARNING, "cannot watch parent of a missing root; relying on the periodic check", path=p, error=str(e))

    def _health(self) -> None:
        _trim_memory()
        obs = self.observer
        alive = obs is not None and obs.is_alive() and all(e.is_alive() for e in list(obs.emitters))
        if not alive:
            self.observer_restarts += 1
            event(logging.WARNING, "file watcher died; restarting it and rescanning", restarts=self.observer_restarts)
            if obs is not None:
                self._stop_observer(obs)
            self.observer = None
            self._start_observer()
            self.reconcile_requested = True
        else:
            try:
                self._check_roots()
            except OSError as e:
                if self.poll:
                    raise
                self._fall_back_to_polling(e)

    # -- the worker ------------------------------------------------------------------------
    def _make_ingestor(self) -> Any:
        from logscan.ingest.hooks import after_flush
        from logscan.ingest.ingestor import Ingestor
        from logscan.store.store import Batch

        daemon = self

        class DaemonIngestor(Ingestor):  # type: ignore[misc]
            last_flush = time.monotonic()

            def process(self, path: str, st: os.stat_result | None = None) -> None:
                daemon.heartbeat = time.monotonic()
                super().process(path, st)
                if self.batch and time.monotonic() - self.last_flush >= daemon.flush_every:
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
                    # read those files again on the next reconcile.
                    daemon._error("commit failed; will re-read", e)
                    self.batch = Batch()
                    self.states = self.store.file_states()
                    daemon.reconcile_requested = True
                    return
                daemon.flushes += 1
                daemon.events_committed += self.summary.new_events - before
                daemon.last_flush_at = time.time()
                after_flush(self.store)

        return DaemonIngestor(self.store, batch_events=self.batch_events)

    def _error(self, what: str, e: BaseException, **kv: Any) -> None:
        self.errors += 1
        self.last_error = f"{what}: {type(e).__name__}: {e}"[:500]
        log.error(what, exc_info=e, extra={"kv": kv})

    def _process(self, path: str, st: os.stat_result | None = None) -> None:
        from logscan.store.store import utcnow

        try:
            self.ing.process(path, st)
        except Exception as e:
            self._error("reading a file failed; retrying on the next reconcile", e, path=path)
            prev = self.ing.states.get(path)
            self.ing.batch.problems.append(
                (path, prev.offset if prev else 0, "daemon-error", f"{type(e).__name__}: {e}"[:300], 0, None, None, utcnow())
            )
            self.retry.add(path)

    def _worker(self) -> None:
        next_reconcile = 0.0  # the initial scan
        next_health = time.monotonic() + self.health_interval
        while True:
            try:
                now = time.monotonic()
                timeout = max(0.0, min(next_reconcile, next_health) - now)
                if self.wake.wait(timeout) and not self.stopping.is_set():
                    if self.jobs.empty():
                        self.stopping.wait(self.debounce)  # let a burst of writes settle
                self.wake.clear()
                self.heartbeat = time.monotonic()
                if self.stopping.is_set():
                    self._drain()
                    self.ing.flush()
                    self._fail_jobs()
                    return
                self._run_jobs()
                now = time.monotonic()
                if now >= next_health or self.roots_changed:
                    if now >= next_health:
                        next_health = now + self.health_interval
                        self._health()
                    else:
                        self._check_roots()
                if now >= next_reconcile or self.reconcile_requested:
                    self._reconcile()
                    next_reconcile = time.monotonic() + self.reconcile_interval
                self._drain()
                self.ing.flush()
            except Exception as e:  # never let the worker die; try again shortly
                self._error("worker loop error", e)
                self.stopping.wait(1.0)

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

    def _drain(self) -> None:
        with self._dirty_lock:
            batch, self.dirty = self.dirty, {}
            dirs, self.dirty_dirs = self.dirty_dirs, set()
        for d in sorted(dirs):
            self._scan_dir(d)
        if not batch:
            return
        for path in sorted(batch):
            self._process(path)
        self.ing.flush()
        self.last_commit_lag = time.monotonic() - min(batch.values())

    def _scan_dir(self, d: str) -> None:
        """A directory appeared, moved or vanished: read what is in it and notice what is gone."""
        from logscan.ingest.ingestor import walk
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
        self.reconcile_requested = False
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
        _trim_memory()
        level = logging.INFO if not self.initial_scan_done or new_bytes else logging.DEBUG
        event(level, "initial scan done" if not self.initial_scan_done else "reconcile done",
              files=len(todo), new_bytes=new_bytes, seconds=round(time.monotonic() - t0, 3))
        self.initial_scan_done = True

    def _job_backfill(self, paths: list[str]) -> dict[str, Any]:
        from logscan.ingest.ingestor import Summary
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

    def _job_call(self, target: str, args: dict[str, Any]) -> Any:
        import importlib

        from logscan.ingest.hooks import after_flush

        self.ing.flush()
        module, attr = target.split(":")
        result = getattr(importlib.import_module(module), attr)(self.store, **args)
        after_flush(self.store)
        return result
