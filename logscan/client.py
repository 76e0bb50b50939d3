"""Read access to the store for commands: one place decides how a query reaches the data.

``run_query`` is what every report and ``logscan query`` call. When the daemon answers on its
Unix socket (``logscan.paths.socket_path()``) for the same database, the SQL goes there: the
daemon holds the only read-write connection and runs each request on its own cursor, so the user
never meets a lock error. Otherwise the DuckDB file is opened read-only (retrying briefly while a
writer's lock is held). Either way, statements that would modify anything are refused.

``run_write`` is how other commands write while the daemon may be running: it sends an
allow-listed ``"module:function"`` to the daemon (see ``logscan.daemon``), or, when no daemon
runs, opens the store read-write itself and calls the same function.

This module stays light on the socket path: it imports only ``socket`` and ``json`` there, never
duckdb, pydantic or watchdog.

Wire protocol (one JSON object per line, each way; values that JSON cannot carry are tagged,
see ``encode_value``)::

    -> {"op": "query", "db": "/abs/db", "sql": "...", "params": [...], "timeout": 60, "tz": "UTC"}
    <- {"ok": true, "columns": [...], "rows": [[...], ...]}
    <- {"ok": false, "error": "query|read-only|wrong-db|timeout|bad-request|internal", "message": "..."}
"""

from __future__ import annotations

import base64
import json
import math
import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_QUERY_TIMEOUT = 300.0
CONNECT_TIMEOUT = 1.0
MAX_LINE = 1 << 20  # requests are small; replies are read until their newline


class NoDaemon(Exception):
    """No daemon answered for this database (not running, stale socket, or another --db)."""


# -- values on the wire --------------------------------------------------------------------
def encode_value(v: Any) -> Any:
    """A JSON-able form of a DuckDB value that ``decode_value`` turns back into an equal one."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):  # HUGEINT sums can pass 64 bits, which JSON readers may not keep
        return v if -(2**63) <= v < 2**63 else {"$i": str(v)}
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": repr(v)}
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, date):
        return {"$d": v.isoformat()}
    if isinstance(v, dtime):
        return {"$t": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$dec": str(v)}
    if isinstance(v, timedelta):
        return {"$td": [v.days, v.seconds, v.microseconds]}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, uuid.UUID):
        return {"$uuid": str(v)}
    if isinstance(v, tuple):
        return {"$tup": [encode_value(x) for x in v]}
    if isinstance(v, list):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        return {"$o": [[encode_value(k), encode_value(x)] for k, x in v.items()]}
    return {"$s": str(v)}


def decode_value(v: Any) -> Any:
    if isinstance(v, list):
        return [decode_value(x) for x in v]
    if not isinstance(v, dict):
        return v
    ((tag, x),) = v.items()
    if tag == "$f":
        return float(x)
    if tag == "$i":
        return int(x)
    if tag == "$dt":
        return datetime.fromisoformat(x)
    if tag == "$d":
        return date.fromisoformat(x)
    if tag == "$t":
        return dtime.fromisoformat(x)
    if tag == "$dec":
        return Decimal(x)
    if tag == "$td":
        return timedelta(days=x[0], seconds=x[1], microseconds=x[2])
    if tag == "$b":
        return base64.b64decode(x)
    if tag == "$uuid":
        return uuid.UUID(x)
    if tag == "$tup":
        return tuple(decode_value(y) for y in x)
    if tag == "$o":
        return {decode_value(k): decode_value(y) for k, y in x}
    if tag == "$s":
        return x
    raise ValueError(f"unknown value tag {tag!r} from the daemon")


# -- talking to the daemon -----------------------------------------------------------------
def _db_key(db: Path | str) -> str:
    return str(Path(db).expanduser().resolve())


def request(msg: dict[str, Any], *, timeout: float | None = DEFAULT_QUERY_TIMEOUT + 5, sock_path: Path | None = None) -> dict[str, Any]:
    """Send one request and return the decoded reply dict; raise ``NoDaemon`` if nobody answers."""
    from logscan.paths import socket_path

    path = str(sock_path or socket_path())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(CONNECT_TIMEOUT)
        try:
            s.connect(path)
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError, PermissionError, OSError) as e:
            raise NoDaemon(f"no daemon at {path}: {e}") from None
        s.settimeout(timeout)
        s.sendall(json.dumps(msg).encode() + b"\n")
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
    reply = request({"op": op, "db": _db_key(db), **payload}, timeout=timeout)
    if reply.get("error") == "wrong-db":
        raise NoDaemon(reply.get("message", "the daemon serves another database"))
    if not reply.get("ok"):
        _raise_for(reply)
    return decode_value(reply.get("result"))


# -- what commands call --------------------------------------------------------------------
def run_query(db: Path, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows of read-only SQL: through the daemon when it runs, else read-only on disk."""
    from logscan.errors import DatabaseBusy

    deadline = time.monotonic() + 5.0
    while True:
        try:
            return daemon_query(db, sql, params)
        except NoDaemon:
            pass
        from logscan.store import Store

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
    args = args or {}
    try:
        return daemon_write(db, "call", {"target": target, "args": {k: encode_value(v) for k, v in args.items()}}), "daemon"
    except NoDaemon:
        pass
    import importlib

    from logscan.daemon import check_call_allowed
    from logscan.store import Store

    check_call_allowed(target)
    module, attr = target.split(":")
    fn = getattr(importlib.import_module(module), attr)
    with Store.open(db) as store:
        return fn(store, **args), "direct"
