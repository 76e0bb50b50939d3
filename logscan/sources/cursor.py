"""Cursor's dashboard usage export (``usage-events-*.csv``): rows to events (docs/CURSOR_CSV.md).

Cursor keeps no local log of model calls; its dashboard exports one CSV row per request. Header
variants seen in public code (docs/CURSOR_CSV.md has where): every one has ``Date``, ``Model``,
``Input (w/ Cache Write)``, ``Input (w/o Cache Write)``, ``Cache Read``, ``Output Tokens`` and
``Cost``; most add ``Total Tokens``, and some ``Kind``, ``Max Mode``, ``Cloud Agent ID``, ``Automation
ID``, ``Cost to you`` or, in team exports, ``User``/``Email``. Another header is refused, with the
header shown. ``User``/``Email`` and the agent ids are read past, never stored.

**Tokens.** ``Input (w/ Cache Write)`` holds the input tokens written to the cache and ``Input
(w/o Cache Write)`` the plain input, as two disjoint parts: ``Total = both inputs + Cache Read +
Output`` in every sample that has the total, and rows with ``w/ = 0 < w/o`` exist, so ``w/`` is not
"all input including writes" (subtracting ``w/o`` from it would go negative). They become
``cache_write_5m_tokens`` (Cursor does not say the TTL; 5 minutes is the providers' default) and
``input_tokens``. A row whose parts do not add up to its total is a problem, not a guess; without
a ``Total Tokens`` column the parts are taken as they are. Numbers may be quoted with thousands
separators ("1,200").

**Cost.** ``Cost`` is what Cursor charged (dollars, ``$`` optional): stored as ``cost_usd`` with
``price_status = 'imported'`` and never repriced. ``Included`` (in a plan), ``Free`` and ``-`` are not a
charge logscan can know: NULL, ``price_status = 'included'``. Kinds "Errored, Not Charged" /
"Aborted, Not Charged" are calls that processed tokens: counted, with cost 0 when no amount is
given.

**Ids.** ``make_id("cursor", date, model, kind, max mode, tokens, cost, n)`` where ``n`` counts
identical earlier rows of the same file: importing a file twice, or two exports that overlap,
adds each request once, while two identical requests in one export stay two.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

from logscan.errors import LogscanError
from logscan.models import Event, Problem, make_id, new_event

TOOL = "cursor"
REQUIRED = ("Date", "Model", "Input (w/ Cache Write)", "Input (w/o Cache Write)", "Cache Read", "Output Tokens", "Cost")
OPTIONAL = ("Total Tokens", "Kind", "Max Mode", "Cloud Agent ID", "Automation ID", "Cost to you", "User", "Email")
NOT_CHARGED = ("not charged",)


class CursorCsvError(LogscanError):
    """The file is not a Cursor usage export this parser knows (the message shows the header)."""


def _int(v: str, col: str) -> int:
    s = v.strip().replace(",", "").replace("_", "")
    if s in ("", "-"):
        return 0
    if not s.isdigit():
        raise ValueError(f"{col}: not a whole number: {v!r}"[:200])
    return int(s)


def _cost(v: str, kind: str) -> tuple[float | None, str]:
    s = v.strip().replace(",", "")
    if s.startswith("$"):
        s = s[1:]
    if s.lower() in ("", "-", "included", "free"):
        return (0.0, "imported") if any(k in kind.lower() for k in NOT_CHARGED) else (None, "included")
    try:
        x = float(s)
    except ValueError:
        raise ValueError(f"Cost: not an amount: {v!r}"[:200]) from None
    if not (x == x and abs(x) < 1e9) or x < 0:
        raise ValueError(f"Cost: not a usable amount: {v!r}"[:200])
    return x, "imported"


def _ts(v: str) -> datetime:
    s = v.strip()
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Date: not a time: {v!r}"[:200]) from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)  # the dashboard writes UTC


def parse(path: str, data: bytes) -> tuple[list[tuple[Event, float | None, str]], list[Problem]]:
    """(events with their charged cost and price status, problems). Raises ``CursorCsvError``
    when the header is not one this parser knows (nothing is imported then)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CursorCsvError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}); is it the CSV from Cursor's dashboard?") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CursorCsvError(f"{path} is empty: export 'usage events' from cursor.com/dashboard (Usage tab) and import that file.") from None
    except csv.Error as e:
        raise CursorCsvError(f"{path}: the header cannot be read as CSV ({e}).") from None
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c and c not in REQUIRED and c not in OPTIONAL]
    if missing or unknown:
        raise CursorCsvError(
            f"{path}: not a Cursor usage export logscan knows. Header: {','.join(header)[:300]}. "
            f"Needed: {', '.join(REQUIRED)}; also accepted: {', '.join(OPTIONAL)}"
            + (f"; missing: {', '.join(missing)}" if missing and len(missing) < len(REQUIRED) else "") + (f"; unknown: {', '.join(unknown)}" if unknown else "") + "."
        )
    col = {name: i for i, name in enumerate(header)}
    seen: dict[tuple[Any, ...], int] = {}
    events: list[tuple[Event, float | None, str]] = []
    problems: list[Problem] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            line = reader.line_num
            problems.append(Problem(path=path, offset=line, kind="schema", reason=f"line {line}: not CSV: {e}"[:300]))
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(path=path, offset=line, kind="schema", reason=f"line {line}: {len(row)} fields, the header has {len(header)}"))
            continue
        get = lambda name: row[col[name]] if name in col else ""  # noqa: E731
        try:
            cw, inp, cr, out = (_int(get(c), c) for c in ("Input (w/ Cache Write)", "Input (w/o Cache Write)", "Cache Read", "Output Tokens"))
            total = _int(get("Total Tokens"), "Total Tokens") if "Total Tokens" in col else cw + inp + cr + out
            if cw + inp + cr + out != total:
                raise ValueError(f"the parts ({cw} + {inp} + {cr} + {out}) do not add up to Total Tokens ({total})")
            kind = get("Kind").strip()
            cost, status = _cost(get("Cost"), kind)
            ts = _ts(get("Date"))
            model = get("Model").strip()
            if not model or not model.isprintable():
                raise ValueError("Model: empty" if not model else f"Model: not printable: {model!r}"[:200])
        except ValueError as e:
            problems.append(Problem(path=path, offset=line, kind="schema", reason=f"line {line}: {e}"[:300]))
            continue
        key = (ts.isoformat(), model, kind, get("Max Mode").strip(), cw, inp, cr, out, get("Cost").strip())
        n = seen[key] = seen.get(key, 0) + 1
        ev = new_event(event_id=make_id(TOOL, *key, n), tool=TOOL, provider=None, model=model, ts=ts, input_tokens=inp, output_tokens=out,
                       cache_read_tokens=cr, cache_write_5m_tokens=cw, source_path=path, source_offset=line,
                       speed="max" if get("Max Mode").strip().lower() in ("yes", "true") else None)
        events.append((ev, cost, status))
    return events, problems
