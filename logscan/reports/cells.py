"""How one value reads in a table cell, and how a table is cut to fit a width.

Contract:

- **Money** (a column whose name says ``usd``, ``cost`` or ``amount``): ``$`` and two decimals,
  grouped (``$1,234.50``); a non-zero amount that would read ``$0.00`` gets the digits it needs
  to show two significant figures (``$0.0000012``); ``None`` is ``-`` (unpriced, never ``$0.00``).
- **Integers** are grouped (``1,234,567``) except in columns that hold identifiers or calendar
  numbers (``year``, ``*_id``, ``pid``, ``offset``, ...): ``2026`` never reads ``2,026``.
- **Other floats** keep up to four decimals, and a tiny non-zero value never prints as ``0``.
- ``clean(v)`` is what machine formats (CSV, JSON) carry: a float rounded to 12 significant
  digits, so binary noise (``0.7506165500000002``) is gone while every digit a price can carry
  stays; ``logscan query`` can ask for the exact value.
- ``fit`` picks which columns to show at a width: columns that are empty or all zero go first,
  then the table's low-value columns in its order, then long text is shortened in the middle
  with ``…``. A row is never wrapped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

ELLIPSIS = "…"
MIN_TEXT = 8  # a shortened text column keeps at least this many characters
_PLAIN_INT = ("year", "pid", "port", "offset", "seq", "version", "id", "line", "uid")


def is_money(column: str) -> bool:
    c = column.lower()
    return "usd" in c or c in ("cost", "amount") or c.startswith("cost_") or c.endswith("_cost")


def is_plain_int(column: str) -> bool:
    c = column.lower()
    return c in _PLAIN_INT or "year" in c or c.endswith(("_id", "_offset", "_pid"))


def money(v: float | Decimal | int | None) -> str:
    if v is None:
        return "-"
    x = float(v)
    if math.isnan(x) or math.isinf(x):
        return "-"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a == 0 or a >= 0.005:
        return f"{sign}${a:,.2f}"
    digits = 1 - math.floor(math.log10(a))  # two significant figures
    return f"{sign}${a:.{digits}f}"


def number(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return "-"
    if v.is_integer() and abs(v) < 1e15:
        return f"{v:,.0f}"
    a = abs(v)
    if a >= 0.0001:
        return f"{v:,.4f}".rstrip("0").rstrip(".")
    digits = 1 - math.floor(math.log10(a))
    return f"{v:.{digits}f}"


def clean(v: float) -> float:
    """A float without binary noise, for CSV and JSON (12 significant digits)."""
    if math.isnan(v) or math.isinf(v) or v == 0:
        return v
    return float(f"{v:.12g}")


def shorten(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (the start and the end both say
    something: a path's root and its last folder, an id's prefix and suffix)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = width // 2
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def fit(
    columns: Sequence[str],
    cells: list[list[str]],
    numeric: Sequence[bool],
    width: int | None,
    drop_order: Sequence[str] = (),
    *,
    compact: bool = False,
    raw: Sequence[Sequence[Any]] | None = None,
) -> tuple[list[int], list[int]]:
    """Which columns to show (indexes) and each one's width, so a line is at most ``width``.

    ``compact`` drops every column in ``drop_order`` whatever the width. Columns never dropped:
    those not in ``drop_order`` (the labels and the main figures)."""
    n = len(columns)
    keep = list(range(n))
    widths = [max([len(columns[i])] + [len(r[i]) for r in cells]) for i in range(n)]

    def total(idx: list[int], w: list[int]) -> int:
        return sum(w[i] for i in idx) + 2 * max(len(idx) - 1, 0)

    droppable = [columns.index(c) for c in drop_order if c in columns]
    if compact:
        keep = [i for i in keep if i not in droppable]
    if width is None:
        return keep, widths
    if raw is not None:  # empty or all-zero low-value columns first
        empty = [i for i in droppable if i in keep and all(r[i] in (None, 0, "", 0.0) for r in raw)]
        for i in empty:
            if total(keep, widths) <= width:
                break
            keep.remove(i)
    for i in droppable:
        if total(keep, widths) <= width:
            break
        if i in keep:
            keep.remove(i)
    # Then shorten the text columns, the widest first, one character at a time (so two long
    # columns end up sharing the room), never below MIN_TEXT (or the header).
    while total(keep, widths) > width:
        text = [i for i in keep if not numeric[i] and widths[i] > max(MIN_TEXT, len(columns[i]))]
        if not text:
            break
        widths[max(text, key=lambda j: (widths[j], -j))] -= 1
    return keep, widths
