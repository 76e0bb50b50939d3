"""Writers for (columns, rows): an aligned text table, CSV, a JSON array, or NDJSON.

Datetimes are ISO 8601; naive timestamps from the store are UTC and get a ``Z``. Decimals and
other non-JSON values become numbers or strings. Streams: this module writes data to ``out``
only; messages belong on stderr.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TextIO

import orjson

FORMATS = ("table", "csv", "json", "ndjson")


def plain(v: Any) -> Any:
    """A JSON-able version of a value from DuckDB."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        # DuckDB sums are HUGEINT; JSON writers take 64-bit integers, so a larger one is text.
        return v if -(1 << 63) <= v < (1 << 64) else str(v)
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, datetime):
        return v.isoformat() + ("Z" if v.tzinfo is None else "")
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return str(v)


def cell(v: Any) -> str:
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, float):
        if v != 0 and abs(v) < 0.01:
            return f"{v:.6f}".rstrip("0")
        return f"{v:,.4f}".rstrip("0").rstrip(".") if not v.is_integer() else f"{v:,.0f}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, (list, dict)):
        return orjson.dumps(v).decode()
    return str(v)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, out: TextIO, *, headers: bool = True) -> None:
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        if headers:
            w.writerow(columns)
        for r in rows:
            w.writerow(["" if x is None else plain(x) for x in r])
    elif fmt == "json":
        out.write("[")
        first = True
        for r in rows:
            out.write("\n  " if first else ",\n  ")
            out.write(orjson.dumps({c: plain(x) for c, x in zip(columns, r, strict=True)}).decode())
            first = False
        out.write("\n]\n" if not first else "]\n")
    elif fmt == "ndjson":
        for r in rows:
            out.write(orjson.dumps({c: plain(x) for c, x in zip(columns, r, strict=True)}).decode() + "\n")
    elif fmt == "table":
        write_table(columns, list(rows), out, headers=headers)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_table(columns: Sequence[str], rows: list[Sequence[Any]], out: TextIO, *, headers: bool = True) -> None:
    cells = [[cell(x) for x in r] for r in rows]
    numeric = [
        all(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool) or r[i] is None for r in rows) and any(r[i] is not None for r in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths, strict=True))).rstrip()

    if headers:
        out.write(line(list(columns)) + "\n")
        out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write(line(r) + "\n")
