"""The daemon's socket: a Unix socket (``logscan.paths.socket_path()``, mode 0600 in a 0700
directory) speaking ``logscan.service.protocol`` (one JSON object per line), a thread per request.

Operations::

    {"op": "ping"}                                   -> {"ok": true, "pid": ..., "db": ...}
    {"op": "status"}                                 -> {"ok": true, "status": {...}}
    {"op": "query", "sql": ..., "params": [...], "timeout": s, "tz": "Europe/Paris"}
        one read statement, in a read-only transaction (``logscan.store.readonly``), on a fresh
        cursor of the daemon's locked-down instance (no file access), and interrupted (``cursor.interrupt()``) after the timeout.
    {"op": "backfill", "paths": ["/dir", ...]}       -> {"ok": true, "result": {summary}}
    {"op": "call", "target": "module:function", "args": {...}} -> {"ok": true, "result": ...}
    {"op": "render", "argv": ["report", "daily", ...], ...} -> {"ok": true, "stdout": ..., "stderr": ..., "code": 0}
        a read-only report rendered for a thin client (``logscan.service.thin``), when the daemon
        was given a renderer; its SQL runs as ``query`` does.

Every request may carry ``"db"`` (the absolute database path); a daemon serving another file
answers ``{"ok": false, "error": "wrong-db"}`` and the client falls back to opening its own.
Writes (``backfill``, ``call``) are handed to the writer (``Writer.submit``); queries run here,
on cursors of the connection the daemon gives (``qcon``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logscan.errors import LogscanError
from logscan.service.calls import check_call_allowed
from logscan.service.logs import event
from logscan.service.protocol import MAX_REQUEST, dumps

SUN_PATH_MAX = 104 if sys.platform == "darwin" else 108


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 256
    block_on_close = False
    owner: QueryServer


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


class QueryServer:
    """Binds ``sock_path`` for the store ``db``; ``serve`` runs in its own thread until ``close``.

    ``status`` builds the status reply; ``writer`` takes writes (``submit``, ``job_backfill``,
    ``job_call``); ``qcon`` is the connection whose cursors run queries (None once closing)."""

    def __init__(self, db: Path, sock_path: Path, *, writer: Any, status: Callable[[], dict[str, Any]], query_timeout: float) -> None:
        self.db = db
        self.sock_path = sock_path
        self.writer = writer
        self.status = status
        self.query_timeout = query_timeout
        self.qcon: Any = None
        # renders a served report for a thin client (logscan.commands.render.render_for_client,
        # given by the daemon command: this layer does not import the commands); None: not offered
        self.render: Callable[..., dict[str, Any]] | None = None
        self._qlock = threading.Lock()
        self.server: _Server | None = None
        self._sock_ino: int | None = None
        self._thread: threading.Thread | None = None

    # -- the socket file -----------------------------------------------------------------
    def check_socket_free(self) -> None:
        """Refuse to start when another daemon answers on our socket; remove a stale one."""
        path = self.sock_path
        if len(os.fsencode(str(path))) >= SUN_PATH_MAX:
            raise LogscanError(
                f"The socket path {path} is longer than this system allows ({SUN_PATH_MAX - 1} bytes). "
                "Set LOGSCAN_SOCKET to a shorter path, e.g. /tmp/logscan-$UID.sock."
            )
        from logscan.paths import InsecurePath, check_socket, make_private_dir

        parent = path.parent
        if not parent.exists():
            make_private_dir(parent)
        elif not parent.is_symlink() and parent.stat().st_uid == os.getuid() and parent.name in ("logscan", "run"):
            make_private_dir(parent)  # our own directory (made by an older version?): keep it private
        try:
            check_socket(path, exists=True)
        except InsecurePath as e:
            raise LogscanError(f"Refusing to start the daemon: {e}.") from None
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

    def bind(self, qcon: Any) -> None:
        path = self.sock_path
        if path.exists() or path.is_symlink():
            self.check_socket_free()
        old = os.umask(0o177)
        try:
            server = _Server(str(path), _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        server.owner = self
        self.server = server
        self._sock_ino = path.stat().st_ino
        self.qcon = qcon

    def serve(self) -> threading.Thread:
        assert self.server is not None
        t = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.5}, name="logscan-socket", daemon=True)
        self._thread = t
        t.start()
        return t

    def close(self) -> None:
        """Stop serving, remove our socket file (not one another process put there), close qcon."""
        if self.server is not None:
            if self._thread is not None and self._thread.is_alive():
                self.server.shutdown()
            self.server.server_close()
            try:
                if self._sock_ino is not None and self.sock_path.stat().st_ino == self._sock_ino:
                    self.sock_path.unlink()
            except OSError:
                pass
            self.server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._qlock:
            qcon, self.qcon = self.qcon, None
        if qcon is not None:
            try:
                qcon.close()
            except Exception:  # noqa: S110
                pass

    def cursor(self) -> Any:
        """A new cursor for a read, or None when closing."""
        with self._qlock:
            return self.qcon.cursor() if self.qcon is not None else None

    # -- requests ------------------------------------------------------------------------
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
        if op == "render" and self.render is not None:
            return self.render(req, str(self.db), self._local_query)
        if op == "backfill":
            paths = [str(p) for p in req.get("paths") or []]
            return self.writer.submit(lambda: self.writer.job_backfill(paths), float(req.get("timeout") or 3600))
        if op == "call":
            from logscan.service.protocol import decode_value

            target = str(req.get("target"))
            try:
                check_call_allowed(target)
            except LogscanError as e:
                return {"ok": False, "error": "bad-request", "message": str(e)}
            args = {str(k): decode_value(v) for k, v in (req.get("args") or {}).items()}
            return self.writer.submit(lambda: self.writer.job_call(target, args), float(req.get("timeout") or 3600))
        ops = "ping, status, query, " + ("render, " if self.render is not None else "") + "backfill or call"
        return {"ok": False, "error": "bad-request", "message": f"Unknown op {op!r}; expected {ops}."}

    def _local_query(self, sql: str, params: Any, tz: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A render's read-only SQL, run exactly as a ``query`` request from the client would be."""
        from logscan.service.client import query_result
        from logscan.service.protocol import encode_value

        return query_result(self._query({"sql": sql, "params": [encode_value(p) for p in params or []], "tz": tz}))

    def _query(self, req: dict[str, Any]) -> dict[str, Any]:
        import duckdb

        from logscan.errors import QueryError, ReadOnlyViolation
        from logscan.service.protocol import decode_value, encode_value
        from logscan.store.readonly import TABLES_HINT, run_on

        sql = req["sql"]
        if not isinstance(sql, str):
            raise TypeError("sql must be a string")
        params = [decode_value(p) for p in req.get("params") or []]
        timeout = min(float(req.get("timeout") or self.query_timeout), self.query_timeout)
        cur = self.cursor()
        if cur is None:
            return {"ok": False, "error": "internal", "message": "The daemon is shutting down; try again."}
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
            timer = threading.Timer(timeout, interrupt)
            timer.daemon = True
            timer.start()
            columns, rows = run_on(cur, sql, params)
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
