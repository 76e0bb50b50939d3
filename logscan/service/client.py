"""Read access to the store for commands: one place decides how a query reaches the data.

``run_query`` is what every report and ``logscan query`` call. When the daemon answers on its
Unix socket (``logscan.paths.socket_path()``) for the same database, the SQL goes there: the
daemon holds the only read-write connection and runs each request on its own cursor, so the user
never meets a lock error. Otherwise the DuckDB file is opened read-only (retrying briefly while a
writer's lock is held). Either way, statements that would modify anything are refused.

``run_write`` is how other commands write while the daemon may be running: it sends an
allow-listed ``"module:function"`` to the daemon (see ``logscan.service.daemon``), or, when no daemon
runs, opens the store read-write itself and calls the same function.

This module stays light on the socket path: it imports only ``socket`` and ``json`` there (the
value codec, ``protocol``, when a reply carries values), never duckdb, pydantic or watchdog.

Wire protocol (one JSON object per line, each way; values that JSON cannot carry are tagged,
see ``encode_value``)::

    -> {"op": "query", "db": "/abs/db", "sql": "...", "params": [...], "timeout": 60, "tz": "UTC"}
    <- {"ok": true, "columns": [...], "rows": [[...], ...]}
    <- {"ok": false, "error": "query|read-only|wrong-db|timeout|bad-request|internal", "message": "..."}
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


DEFAULT_QUERY_TIMEOUT = 300.0
CONNECT_TIMEOUT = 1.0


class NoDaemon(Exception):
    """No daemon answered for this database (not running, stale socket, or another --db)."""


# -- talking to the daemon -----------------------------------------------------------------
def _db_key(db: Path | str) -> str:
    return str(Path(db).expanduser().resolve())


def request(msg: dict[str, Any], *, timeout: float | None = DEFAULT_QUERY_TIMEOUT + 5, sock_path: Path | None = None) -> dict[str, Any]:
    """Send one request and return the decoded reply dict; raise ``NoDaemon`` if nobody answers."""
    from logscan.paths import InsecurePath, check_socket, socket_path

    sock = Path(sock_path or socket_path())
    path = str(sock)
    try:
        check_socket(sock, exists=True)  # never talk to a socket another user could have put there
    except InsecurePath as e:
        raise NoDaemon(f"not using the daemon socket: {e}") from None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(CONNECT_TIMEOUT)
        try:
            s.connect(path)
            s.settimeout(timeout)
            s.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:  # missing, refused, reset before the request was read: no daemon
            raise NoDaemon(f"no daemon at {path}: {e}") from None
        chunks: list[bytes] = []
        while True:
            got = s.recv(1 << 16)
            if not got:
                break
            chunks.append(got)
            if got.endswith(b"\n"):
                break
    finally:
        s.close()
    data = b"".join(chunks)
    if not data:
        from logscan.errors import LogscanError

        raise LogscanError(
            f"The logscan daemon at {path} closed the connection without answering. "
            "Its log says why ('logscan service status' shows where); try again."
        )
    reply: dict[str, Any] = json.loads(data)
    return reply


def _raise_for(reply: dict[str, Any]) -> None:
    from logscan.errors import LogscanError, QueryError, ReadOnlyViolation

    kind = reply.get("error")
    msg = reply.get("message") or "the daemon reported an error"
    if kind == "read-only":
        raise ReadOnlyViolation(msg)
    if kind in ("query", "timeout", "bad-request"):
        raise QueryError(msg)
    raise LogscanError(f"{msg} (from the logscan daemon; its log has details: 'logscan service status')")


def daemon_query(
    db: Path, sql: str, params: Sequence[Any] | None = None, *, timeout: float = DEFAULT_QUERY_TIMEOUT
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run read-only SQL in the daemon; ``NoDaemon`` when it does not serve this database."""
    from logscan.service.protocol import encode_value

    msg: dict[str, Any] = {
        "op": "query",
        "db": _db_key(db),
        "sql": sql,
        "params": [encode_value(p) for p in (params or [])],
        "timeout": timeout,
    }
    if tz := os.environ.get("TZ"):
        msg["tz"] = tz
    reply = request(msg, timeout=timeout + 5)
    if reply.get("error") == "wrong-db":
        raise NoDaemon(reply.get("message", "the daemon serves another database"))
    return query_result(reply)


def query_result(reply: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of a query reply, or the error it carries raised."""
    from logscan.service.protocol import decode_value

    if not reply.get("ok"):
        _raise_for(reply)
    return list(reply["columns"]), [tuple(decode_value(x) for x in r) for r in reply["rows"]]


def daemon_status(db: Path | None = None, *, timeout: float = 5.0) -> dict[str, Any]:
    """The daemon's own status report (``NoDaemon`` when none answers)."""
    msg: dict[str, Any] = {"op": "status"}
    if db is not None:
        msg["db"] = _db_key(db)
    reply = request(msg, timeout=timeout)
    if reply.get("error") == "wrong-db":
        raise NoDaemon(reply.get("message", "the daemon serves another database"))
    if not reply.get("ok"):
        _raise_for(reply)
    return dict(reply["status"])


def daemon_write(db: Path, op: str, payload: dict[str, Any], *, timeout: float = 3600.0) -> Any:
    """Ask the daemon to run a write (``backfill`` or an allow-listed ``call``); return its result."""
    from logscan.service.protocol import decode_value

    reply = request({"op": op, "db": _db_key(db), **payload}, timeout=timeout)
    if reply.get("error") == "wrong-db":
        raise NoDaemon(reply.get("message", "the daemon serves another database"))
    if not reply.get("ok"):
        _raise_for(reply)
    return decode_value(reply.get("result"))


# -- what commands call --------------------------------------------------------------------
def run_query(db: Path, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of read-only SQL: through the daemon when it runs, else read-only on disk.
    Inside the daemon (a report rendered for a thin client) on the daemon's own query connection."""
    from logscan.context import LOCAL_QUERY
    from logscan.errors import DatabaseBusy

    local = LOCAL_QUERY.get()
    if local is not None:
        return local(sql, params)

    deadline = time.monotonic() + 5.0
    while True:
        try:
            return daemon_query(db, sql, params)
        except NoDaemon:
            pass
        from logscan.store.store import Store

        try:
            # A short wait: if a daemon is starting, its socket will answer on the next turn.
            with Store.open(db, read_only=True, wait=0.3) as store:
                return store.query(sql, params)
        except DatabaseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def run_write(db: Path, target: str, args: dict[str, Any] | None = None) -> Any:
    """Call an allow-listed ``"module:function"`` as ``fn(store, **args)`` in the daemon when it
    runs, else here with the store opened read-write. Arguments and result must be JSON-able
    (datetimes, dates and Decimals are fine)."""
    return run_write_via(db, target, args)[0]


def run_write_via(db: Path, target: str, args: dict[str, Any] | None = None) -> tuple[Any, str]:
    """``run_write``, also saying where the write ran: "daemon" or "direct"."""
    from logscan.service.protocol import encode_value

    args = args or {}
    try:
        return daemon_write(db, "call", {"target": target, "args": {k: encode_value(v) for k, v in args.items()}}), "daemon"
    except NoDaemon:
        pass
    import importlib

    from logscan.service.calls import check_call_allowed
    from logscan.store.store import Store

    check_call_allowed(target)
    module, attr = target.split(":")
    fn = getattr(importlib.import_module(module), attr)
    with Store.open(db) as store:
        return fn(store, **args), "direct"
