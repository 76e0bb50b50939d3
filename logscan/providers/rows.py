"""Rows of ``api_usage`` and ``api_costs`` as the providers' pages are read, and the checks that
turn a malformed result into a problem row instead of a silent zero.

The tables' column order is ``logscan.store.apistore``'s. A result that is not an object,
a token count that is not a non-negative integer, a time that cannot be read or an amount that
is not a number makes ``BadResult``; the caller records it (endpoint, page index, reason) and
keeps the rest of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


class BadResult(ValueError):
    pass


def count(d: dict[str, Any], key: str, *path: str) -> int:
    """A token or request count: absent or null is 0; anything but a non-negative integer is bad."""
    v: Any = d
    for k in (key, *path):
        if not isinstance(v, dict):
            raise BadResult(f"{'.'.join((key, *path))}: expected an object on the way")
        v = v.get(k)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BadResult(f"{'.'.join((key, *path))}: expected a non-negative integer, got {v!r}"[:200])
    return v


def text(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None or isinstance(v, str):
        return v or None
    raise BadResult(f"{key}: expected a string or null, got {type(v).__name__}")


def utc(v: Any, what: str) -> datetime:
    """An RFC 3339 string or unix seconds as a naive UTC datetime."""
    try:
        if isinstance(v, bool):
            raise TypeError
        if isinstance(v, (int, float)):
            return datetime.fromtimestamp(v, timezone.utc).replace(tzinfo=None)
        d = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadResult(f"{what}: not a time: {v!r}"[:200]) from None
    return (d.astimezone(timezone.utc) if d.tzinfo else d).replace(tzinfo=None)


def decimal(v: Any, what: str) -> Decimal:
    if isinstance(v, bool) or v is None:
        raise BadResult(f"{what}: expected a number, got {v!r}")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise BadResult(f"{what}: expected a number, got {v!r}"[:200]) from None
    if not d.is_finite():
        raise BadResult(f"{what}: not a finite number: {v!r}")
    return d


def buckets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    data = doc.get("data")
    if not isinstance(data, list):
        raise BadResult("data: expected a list of time buckets")
    return data


def results(doc: dict[str, Any], path: str, page: int, problem: Callable[[str, int, str], None], start_key: str, end_key: str
            ) -> list[tuple[tuple[datetime, datetime], dict[str, Any]]]:
    """Each result of a page of time buckets with its bucket's (start, end); a bucket or result
    that is not shaped right goes to ``problem(path, page, reason)`` and is skipped."""
    out = []
    try:
        bs = buckets(doc)
    except BadResult as e:
        problem(path, page, str(e))
        return []
    for b in bs:
        try:
            if not isinstance(b, dict) or not isinstance(b.get("results"), list):
                raise BadResult("a bucket without a 'results' list")
            span = (utc(b.get(start_key), start_key), utc(b.get(end_key), end_key))
        except BadResult as e:
            problem(path, page, str(e))
            continue
        for r in b["results"]:
            if isinstance(r, dict):
                out.append((span, r))
            else:
                problem(path, page, "a result that is not an object")
    return out
