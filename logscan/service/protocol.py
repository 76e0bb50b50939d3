"""The daemon's wire protocol: one JSON object per line each way over a Unix socket. A request is
``{"op": ..., ...}``; a reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": kind, "message":
...}``. Values that JSON cannot carry exactly (big integers, non-finite floats, dates, decimals,
bytes, tuples, maps) travel tagged (``encode_value``) and come back equal (``decode_value``).
Imported by both ``logscan.service.client`` and the daemon; it imports neither."""

from __future__ import annotations

import base64
import math
import uuid
from datetime import date, datetime, time as dtime, timedelta
from decimal import Decimal
from typing import Any

MAX_REQUEST = 16 * 1024 * 1024


def dumps(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)


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
