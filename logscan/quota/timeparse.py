"""Reset times as people see them, turned into absolute UTC instants.

Panels print wall-clock resets without a date (``5am``, ``03:14``), without a year
(``Dec 2 at 12am``, ``03:16 on 2 Dec``, ``Nov 27``) and often without a zone. Each is resolved to
the next such instant after the capture time, in the zone the text names or else in the local
zone, which is then reported as assumed (FORMATS.md sections 2 and 3.4).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

# "(Europe/Vienna)", "(UTC)", "(America/Argentina/Buenos_Aires)"
ZONE_RE = re.compile(r"\(\s*((?:[A-Za-z][A-Za-z_+\-]*)(?:/[A-Za-z0-9_+\-]+){0,3})\s*\)")
_TIME = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)"
CLOCK12_RE = re.compile(rf"^\s*(?:at\s*)?{_TIME}\s*$", re.I)
# Month-first: "Dec 2 at 12am", "Jan 2, 2026, 10:59pm", "Feb12at1:29pm", "Jul 10 t 2:59am", "Nov 27"
MONTH_FIRST_RE = re.compile(
    rf"^\s*(?P<mon>[A-Za-z]{{3}})[a-z]*\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s*,?\s*(?P<y>\d{{4}}))?"
    rf"(?:\s*,?\s*(?:at|a|t)?\s*{_TIME})?\s*$",
    re.I,
)
# Codex: "03:14", "03:16 on 2 Dec"
CLOCK24_RE = re.compile(r"^\s*(?P<h>\d{1,2}):(?P<m>\d{2})(?:\s*on\s*(?P<d>\d{1,2})\s*(?P<mon>[A-Za-z]{3})[a-z]*)?\s*$", re.I)
# claude.ai: "in 3 hr 43 min"
RELATIVE_RE = re.compile(r"^\s*in\s*(?:(?P<d>\d+)\s*d(?:ays?)?)?\s*(?:(?P<h>\d+)\s*h(?:r|rs|ours?)?)?\s*(?:(?P<m>\d+)\s*m(?:in|ins|inutes?)?)?\s*$", re.I)


@dataclass(frozen=True)
class Reset:
    at: datetime | None  # UTC
    zone_assumed: str | None  # the zone used because the text named none (or an unknown one)
    note: str | None = None


def local_zone() -> tuple[tzinfo, str]:
    """The machine's zone with an IANA name when one can be found (TZ, /etc/localtime)."""
    tz = os.environ.get("TZ", "").lstrip(":").strip()
    if tz:
        try:
            return ZoneInfo(tz), tz
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            name = link.split("zoneinfo/", 1)[1]
            return ZoneInfo(name), name
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    from dateutil.tz import tzlocal

    return tzlocal(), "local"


def get_zone(name: str | None) -> tuple[tzinfo, str] | None:
    if not name:
        return None
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        return None


def split_zone(text: str) -> tuple[str, str | None]:
    """``"Dec 2 at 12am (Europe/Vienna))"`` -> (``"Dec 2 at 12am"``, ``"Europe/Vienna"``)."""
    m = ZONE_RE.search(text)
    if not m:
        return text.strip().rstrip(")").strip(), None
    return text[: m.start()].strip(), m.group(1)


def _hour12(h: int, m: int, ap: str) -> time | None:
    if not (1 <= h <= 12 and 0 <= m <= 59):
        return None
    pm = ap.lower().startswith("p")
    return time((h % 12) + (12 if pm else 0), m)


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    return datetime.combine(d, t).replace(tzinfo=tz).astimezone(timezone.utc)


def resolve_reset(text: str, captured_at: datetime, default_zone: tuple[tzinfo, str] | None = None) -> Reset:
    """The UTC instant a reset text means, seen at ``captured_at``; never raises."""
    body, zone_name = split_zone(text)
    zone = get_zone(zone_name)
    assumed: str | None = None
    note: str | None = None
    if zone is None:
        zone = default_zone or local_zone()
        assumed = zone[1]
        if zone_name:
            note = f"unknown zone {zone_name[:40]!r}; assumed {zone[1]}"
    tz = zone[0]
    cap = captured_at if captured_at.tzinfo else captured_at.replace(tzinfo=timezone.utc)
    local = cap.astimezone(tz)
    try:
        return Reset(_resolve(body, cap, local, tz), assumed, note)
    except (ValueError, OverflowError):
        return Reset(None, assumed, f"reset {body[:40]!r} is not a valid date")


def _resolve(body: str, cap: datetime, local: datetime, tz: tzinfo) -> datetime | None:
    if m := CLOCK12_RE.match(body):
        t = _hour12(int(m["h"]), int(m["m"] or 0), m["ap"])
        return None if t is None else _next_clock(t, cap, local, tz)
    if m := CLOCK24_RE.match(body):
        h, mi = int(m["h"]), int(m["m"])
        if not (0 <= h <= 23 and 0 <= mi <= 59):
            return None
        if m["mon"] is None:
            return _next_clock(time(h, mi), cap, local, tz)
        mon = MONTHS.get(m["mon"][:3].lower())
        return None if mon is None else _next_date(mon, int(m["d"]), time(h, mi), cap, local, tz)
    if m := MONTH_FIRST_RE.match(body):
        mon = MONTHS.get(m["mon"][:3].lower())
        if mon is None:
            return None
        t = time(0, 0)
        if m["h"]:
            t2 = _hour12(int(m["h"]), int(m["m"] or 0), m["ap"])
            if t2 is None:
                return None
            t = t2
        if m["y"]:
            return _at(date(int(m["y"]), mon, int(m["d"])), t, tz)
        return _next_date(mon, int(m["d"]), t, cap, local, tz)
    if (m := RELATIVE_RE.match(body)) and any(m.group(k) for k in ("d", "h", "m")):
        delta = timedelta(days=int(m["d"] or 0), hours=int(m["h"] or 0), minutes=int(m["m"] or 0))
        return (cap + delta).astimezone(timezone.utc)
    return None


def _next_clock(t: time, cap: datetime, local: datetime, tz: tzinfo) -> datetime:
    # The next such wall-clock time after capture; a couple of minutes of slack because panels
    # print resets rounded to the minute.
    for days in (0, 1, 2):
        c = _at(local.date() + timedelta(days=days), t, tz)
        if c >= cap - timedelta(minutes=2):
            return c
    return c


def _next_date(mon: int, day: int, t: time, cap: datetime, local: datetime, tz: tzinfo) -> datetime:
    # No year: the first such date not before the capture's local day (a date-only reset means
    # some time that day; its start is kept).
    for year in (local.year, local.year + 1):
        try:
            c = _at(date(year, mon, day), t, tz)
        except ValueError:  # Feb 29 in a common year
            continue
        if c.astimezone(tz).date() >= local.date():
            return c
    raise ValueError("no such date")
