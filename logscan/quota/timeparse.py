"""Reset times as people see them, turned into absolute UTC instants.

Panels print wall-clock resets without a date (``5am``, ``5.27am``, ``03:14``), without a year
(``Dec 2 at 12am``, ``03:16 on 2 Dec``, ``Nov 27``) and often without a zone, in the zone the text
names or else in the local zone, which is then reported as assumed (FORMATS.md sections 2, 3.4).

Which day (or year) is meant is decided by the window: a bar's reset lies within one window
length after the capture (a 5-hour bar resets within 5 hours, a weekly one within 7 days). Of the
candidate instants the earliest one in (capture - 2 min, capture + window] is taken; when there
is none, the panel is stale (copied earlier, or the reset just passed while it was on screen):
the latest candidate at most one window before the capture is taken and a note says so; when
no candidate lies within one window of the capture at all, the reset is left unknown (None)
with a note to paste again with ``--at``. Without a window length, the next such instant after
the capture is taken.
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
_TIME = r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)"  # 5am, 5:27am, 5.27am, 12:30 AM
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


def resolve_reset(text: str, captured_at: datetime, default_zone: tuple[tzinfo, str] | None = None,
                  window_minutes: int | None = None) -> Reset:
    """The UTC instant a reset text means, seen at ``captured_at`` on a bar whose window is
    ``window_minutes`` long (see the module docstring); never raises."""
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
        found = _resolve(body, cap, local, tz)
    except (ValueError, OverflowError):
        return Reset(None, assumed, f"reset {body[:40]!r} is not a valid date")
    if found is None or isinstance(found, datetime):
        at = found
        if at is not None and window_minutes and not (cap - SLACK <= at <= cap + timedelta(minutes=window_minutes) + SLACK):
            note = _join(note, _stale_note(body, at, cap, window_minutes))
        return Reset(at, assumed, note)
    at, stale = _choose(found, cap, window_minutes)
    if at is None:
        return Reset(None, assumed, _join(note, f"reset {body[:30]!r} is not within one window ({_span(window_minutes)}) of the capture "
                                                "time, so the panel was shown at another time; paste it again with --at TIME"))
    return Reset(at, assumed, _join(note, _stale_note(body, at, cap, window_minutes) if stale else None))


SLACK = timedelta(minutes=2)  # panels print resets rounded to the minute


def _join(a: str | None, b: str | None) -> str | None:
    return "; ".join(x for x in (a, b) if x) or None


def _span(window_minutes: int | None) -> str:
    return f"{window_minutes // 60} h" if window_minutes and window_minutes < 1440 else f"{(window_minutes or 0) // 1440} d"


def _stale_note(body: str, at: datetime, cap: datetime, window_minutes: int | None) -> str:
    ago = cap - at
    span = _span(window_minutes)
    if ago > timedelta(0):
        return (f"stale: reset {body[:30]!r} was {_human(ago)} before the capture time; the panel was copied earlier "
                "(use --at for when it was shown)")
    return f"reset {body[:30]!r} is {_human(-ago)} after the capture time, more than the {span} window"


def _human(d: timedelta) -> str:
    s = int(d.total_seconds())
    return f"{s // 86400} d" if s >= 86400 else f"{s // 3600} h {s % 3600 // 60} min" if s >= 3600 else f"{s // 60} min"


def _choose(cands: list[datetime], cap: datetime, window_minutes: int | None) -> tuple[datetime | None, bool]:
    """(instant, stale) among candidate instants of one reset text (see the module docstring)."""
    day = timedelta(days=1) if isinstance(cands, DayCandidates) else timedelta(0)
    cands = sorted(cands)
    future = [c for c in cands if c + day >= cap - SLACK]
    if not window_minutes:
        return (future[0] if future else cands[-1]), False
    w = timedelta(minutes=window_minutes)
    fits = [c for c in future if c <= cap + w + SLACK]
    if fits:
        return fits[0], False
    past = [c for c in cands if cap - w - SLACK <= c + day < cap - SLACK]
    if past:
        return past[-1], True
    return None, True  # no candidate within one window of the capture: not this capture's reset


def _resolve(body: str, cap: datetime, local: datetime, tz: tzinfo) -> datetime | list[datetime] | None:
    """A fixed instant, the candidate instants of a text without a day or year, or None."""
    if m := CLOCK12_RE.match(body):
        t = _hour12(int(m["h"]), int(m["m"] or 0), m["ap"])
        return None if t is None else _clock_candidates(t, local, tz)
    if m := CLOCK24_RE.match(body):
        h, mi = int(m["h"]), int(m["m"])
        if not (0 <= h <= 23 and 0 <= mi <= 59):
            return None
        if m["mon"] is None:
            return _clock_candidates(time(h, mi), local, tz)
        mon = MONTHS.get(m["mon"][:3].lower())
        return None if mon is None else _date_candidates(mon, int(m["d"]), time(h, mi), local, tz)
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
        cands = _date_candidates(mon, int(m["d"]), t, local, tz)
        return cands if m["h"] else DayCandidates(cands)
    if (m := RELATIVE_RE.match(body)) and any(m.group(k) for k in ("d", "h", "m")):
        delta = timedelta(days=int(m["d"] or 0), hours=int(m["h"] or 0), minutes=int(m["m"] or 0))
        return (cap + delta).astimezone(timezone.utc)
    return None


class DayCandidates(list[datetime]):
    """Candidates of a date without a time ("Nov 27"): the reset is some time that day, so a
    capture on that day is not past it (the day's start is what is stored)."""


def _clock_candidates(t: time, local: datetime, tz: tzinfo) -> list[datetime]:
    """That wall-clock time on the day before the capture's local day through two days after."""
    return [_at(local.date() + timedelta(days=days), t, tz) for days in (-1, 0, 1, 2)]


def _date_candidates(mon: int, day: int, t: time, local: datetime, tz: tzinfo) -> list[datetime]:
    """That date in the year before the capture's, its year and the next (Feb 29 where it exists)."""
    out = []
    for year in (local.year - 1, local.year, local.year + 1):
        try:
            out.append(_at(date(year, mon, day), t, tz))
        except ValueError:  # Feb 29 in a common year
            continue
    if not out:
        raise ValueError("no such date")
    return out
