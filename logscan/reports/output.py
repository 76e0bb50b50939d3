"""Writers for (columns, rows): an aligned text table, CSV, a JSON array, or NDJSON.

Datetimes are ISO 8601; naive timestamps from the store are UTC and get a ``Z``. Decimals and
other non-JSON values become numbers or strings; floats lose their binary noise unless
``exact`` (``logscan query``). Tables fit the terminal (``cells.fit``) and use rich's colours on
a terminal only. Streams: this module writes data to ``out``
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

from logscan.context import terminal
from logscan.reports.cells import clean, fit, is_money, is_plain_int, money, number, shorten

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


def cell(v: Any, column: str = "") -> str:
    """One value as table text (rules in ``cells``: money, grouped integers, ids ungrouped)."""
    if column and is_money(column) and (v is None or isinstance(v, (int, float, Decimal))) and not isinstance(v, bool):
        return money(v)
    if isinstance(v, datetime):  # minutes in a table (in the zone the report chose); ISO in machine formats
        return v.strftime("%Y-%m-%d %H:%M")
    v = plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return number(v)
    if isinstance(v, int):
        return str(v) if column and is_plain_int(column) else f"{v:,}"
    if isinstance(v, (list, dict)):
        return orjson.dumps(v).decode()
    return str(v)


def machine(v: Any, exact: bool) -> Any:
    v = plain(v)
    return clean(v) if isinstance(v, float) and not exact else v


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, out: TextIO, *, headers: bool = True,
               exact: bool = False, **table: Any) -> None:
    """``exact``: floats as stored (``logscan query``); otherwise without binary noise."""
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        if headers:
            w.writerow(columns)
        for r in rows:
            w.writerow(["" if x is None else machine(x, exact) for x in r])
    elif fmt == "json":
        out.write("[")
        first = True
        for r in rows:
            out.write("\n  " if first else ",\n  ")
            out.write(orjson.dumps({c: machine(x, exact) for c, x in zip(columns, r, strict=True)}).decode())
            first = False
        out.write("\n]\n" if not first else "]\n")
    elif fmt == "ndjson":
        for r in rows:
            out.write(orjson.dumps({c: machine(x, exact) for c, x in zip(columns, r, strict=True)}).decode() + "\n")
    elif fmt == "table":
        write_table(columns, list(rows), out, headers=headers, **table)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def terminal_width(out: TextIO) -> int | None:
    """The width to fit: $COLUMNS when set, else the terminal's when ``out`` is one; None (no
    limit) for a pipe or a file, where nothing wraps. Rendered for a client: the client's
    (``logscan.context.terminal``)."""
    return terminal(out).width


def use_color(out: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org). Rendered for a
    client: as the client decided."""
    return terminal(out).color


def write_table(columns: Sequence[str], rows: list[Sequence[Any]], out: TextIO, *, headers: bool = True, width: int | None | str = "auto",
                drop_order: Sequence[str] = (), compact: bool = False, wide: bool = False, totals: bool = False,
                color: bool | None = None) -> None:
    """An aligned table that fits ``width`` (``"auto"``: ``terminal_width``): low-value columns
    dropped, long text shortened in the middle, never a wrapped row. ``wide``: every column.
    ``totals``: the last row is a totals row, under a rule. On a terminal (``color``), rich
    draws it with colour."""
    cells = [[cell(x, c) for x, c in zip(r, columns, strict=True)] for r in rows]
    numeric = [
        all(isinstance(r[i], (int, float, Decimal)) and not isinstance(r[i], bool) or r[i] is None for r in rows) and any(r[i] is not None for r in rows)
        or (is_money(c) and all(r[i] is None or isinstance(r[i], (int, float, Decimal)) for r in rows))
        for i, c in enumerate(columns)
    ]
    w = terminal_width(out) if width == "auto" else width
    keep, widths = fit(columns, cells, numeric, None if wide else w, drop_order, compact=compact and not wide, raw=rows)  # type: ignore[arg-type]
    if color is None:
        color = use_color(out)
    if color:
        _rich_table(columns, cells, numeric, keep, widths, out, headers=headers, totals=totals)
        return

    def line(vals: Sequence[str]) -> str:
        parts = []
        for i in keep:
            v = shorten(vals[i], widths[i])
            parts.append(v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * widths[i] for i in keep)
    if headers:
        out.write(line(list(columns)) + "\n")
        out.write(rule + "\n")
    for k, r in enumerate(cells):
        if totals and k == len(cells) - 1 and k > 0:
            out.write("-" * len(rule) + "\n")
        out.write(line(r) + "\n")


def _rich_table(columns: Sequence[str], cells: list[list[str]], numeric: Sequence[bool], keep: list[int], widths: list[int], out: TextIO,
                *, headers: bool, totals: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(show_header=headers, header_style="bold", box=None, pad_edge=False, show_footer=False)
    for i in keep:
        style = "green" if is_money(columns[i]) else ("cyan" if not numeric[i] else None)
        t.add_column(columns[i], justify="right" if numeric[i] else "left", no_wrap=True, overflow="ellipsis", max_width=widths[i], style=style)
    for k, r in enumerate(cells):
        last = totals and k == len(cells) - 1 and k > 0
        t.add_row(*(shorten(r[i], widths[i]) for i in keep), style="bold" if last else None, end_section=totals and k == len(cells) - 2)
    Console(file=out, highlight=False, soft_wrap=False, force_terminal=True, width=max(sum(widths[i] + 2 for i in keep), 20)).print(t)
