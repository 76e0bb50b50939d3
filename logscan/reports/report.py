"""Usage reports: per day, week, month, session, project, model or tool, and Claude's 5-hour
billing blocks.

Timestamps stay UTC in the store. Days, weeks and months are computed here, at report time, in
the zone the user asks for (default: the machine's), so changing zone never changes stored data.
To keep reports fast on millions of events the store is first summed per 15-minute UTC bucket
and only those buckets are moved into the zone: every zone in use today has an offset that is a
multiple of 15 minutes and changes it on a quarter hour, so no bucket straddles a local midnight.

Every read goes through ``logscan.service.client.run_query`` (the daemon's socket when it runs).
Cost sums skip unpriced events (``cost_usd IS NULL``); the ``unpriced`` column says how many
there were, so a reader knows when a cost is a lower bound.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logscan.errors import LogscanError

QueryFn = Callable[[Path, str, Sequence[Any] | None], tuple[list[str], list[tuple[Any, ...]]]]

TIME_KINDS = ("daily", "weekly", "monthly")
KINDS = (*TIME_KINDS, "session", "project", "model", "tool", "host", "blocks")
BY_CHOICES = ("tool", "model", "project", "host")
METRICS = ["input", "output", "cache_read", "cache_write", "total_tokens", "cost_usd", "events", "unpriced"]
BLOCK_HOURS = 5
CLAUDE_TOOL = "claude-code"
NO_LABEL = "(none)"  # an event without a project (or model, host): one label in tables, JSON and HTML
# A burn rate from two events seconds apart ($1,264.86/h) is not information: the active block
# is projected only once its events span this long and there are this many of them.
PROJECT_MIN_MINUTES = 15
PROJECT_MIN_EVENTS = 2

# Sums per row; the inner query sums events, the outer one sums the inner sums.
_INNER = """sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read,
    sum(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write, sum(total_tokens) AS total_tokens,
    sum(cost_usd) AS cost_usd, count(*) AS events, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced"""
_OUTER = ", ".join(f"sum({m})::{'DOUBLE' if m == 'cost_usd' else 'BIGINT'} AS {m}" for m in METRICS)


class ReportError(LogscanError):
    pass


# -- zones and dates --------------------------------------------------------------------


def machine_zone() -> str:
    """The machine's zone name: $TZ when set, else /etc/localtime's target, else UTC. Rendered
    for a client: the client's $TZ, else the machine's files (not this process's $TZ)."""
    from logscan.context import CLIENT_TZ

    client = CLIENT_TZ.get()
    tz = (os.environ.get("TZ", "") if client is None else client).strip().lstrip(":")
    if tz:
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return "UTC"


def resolve_zone(name: str | None) -> str:
    name = (name or machine_zone()).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ReportError(
            f"Unknown time zone {name!r}. Pass --tz with an IANA name such as Europe/Berlin, America/New_York or UTC"
            " (or set TZ)."
        ) from e
    return name


_REL = re.compile(r"^(\d+)\s*([hdwmy])$", re.IGNORECASE)


def parse_bound(text: str, zone: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A --since/--until value as a naive UTC datetime.

    A day -- ``YYYY-MM-DD`` or ccusage's ``YYYYMMDD`` -- is local midnight in ``zone``; for ``end``
    it is the following midnight, so an ``--until`` day is included whole. ``7d``, ``2w``, ``1m``,
    ``1y`` are the local day that many days/weeks/months/years ago, with the same rule (``--until
    1d`` includes all of yesterday). An ISO datetime without offset is local time, and ``12h`` is
    that long ago: both are instants, used as they are.
    """
    tz = ZoneInfo(zone)
    now = (now or datetime.now(timezone.utc)).astimezone(tz)
    text = text.strip()
    m = _REL.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        if unit == "h":
            local = now - timedelta(hours=n)
        else:
            day = now.date()
            if unit == "d":
                day -= timedelta(days=n)
            elif unit == "w":
                day -= timedelta(weeks=n)
            elif unit == "m":
                y, mo = divmod(day.year * 12 + day.month - 1 - n, 12)
                day = _clamp_day(y, mo + 1, day.day)
            else:
                day = _clamp_day(day.year - n, day.month, day.day)
            if end:
                day += timedelta(days=1)
            local = datetime.combine(day, time(0), tz)
        return _utc(local)
    try:
        if len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        if len(text) == 10:
            d = date.fromisoformat(text)
            if end:
                d += timedelta(days=1)
            return _utc(datetime.combine(d, time(0), tz))
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise ReportError(
            f"Cannot read {text!r} as a date. Use YYYY-MM-DD or YYYYMMDD, an ISO datetime (2026-01-31T18:00), "
            "or a relative span such as 12h, 7d, 2w, 1m."
        ) from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return _utc(dt)


def _clamp_day(y: int, m: int, d: int) -> date:
    while True:
        try:
            return date(y, m, d)
        except ValueError:
            d -= 1


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def to_zone(ts: datetime | None, zone: str) -> datetime | None:
    """A naive UTC timestamp from the store as an aware datetime in ``zone``."""
    if ts is None:
        return None
    return ts.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))


# -- the query --------------------------------------------------------------------------


@dataclass
class Filters:
    since: datetime | None = None  # naive UTC, inclusive
    until: datetime | None = None  # naive UTC, exclusive
    tools: Sequence[str] = ()
    projects: Sequence[str] = ()  # substring of the project path
    models: Sequence[str] = ()  # substring of the model name
    hosts: Sequence[str] = ()  # the machine that read the log (exact; several after 'logscan sync' or 'import')

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            parts.append("ts >= ?")
            params.append(self.since)
        if self.until is not None:
            parts.append("ts < ?")
            params.append(self.until)
        if self.tools:
            parts.append("tool IN (" + ", ".join("?" for _ in self.tools) + ")")
            params.extend(self.tools)
        if self.hosts:
            parts.append("host IN (" + ", ".join("?" for _ in self.hosts) + ")")
            params.extend(self.hosts)
        for col, vals in (("project", self.projects), ("model", self.models)):
            if vals:
                parts.append("(" + " OR ".join(f"contains(lower({col}), lower(?))" for _ in vals) + ")")
                params.extend(vals)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params


@dataclass
class Report:
    kind: str
    zone: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    keys: int  # how many leading columns are labels (the rest are metrics)
    extra: dict[str, Any] = field(default_factory=dict)

    def totals(self) -> tuple[Any, ...]:
        return totals_row(self.columns, self.rows, self.keys)


def totals_row(columns: Sequence[str], rows: Sequence[Sequence[Any]], keys: int) -> tuple[Any, ...]:
    out: list[Any] = ["TOTAL"] + [""] * (keys - 1)
    for i, c in enumerate(columns[keys:], start=keys):
        if c in METRICS:
            vals = [r[i] for r in rows if r[i] is not None]
            out.append(sum(vals) if vals else (0 if c != "cost_usd" else None))
        else:
            out.append("")
    return tuple(out)


def _default_query() -> QueryFn:
    from logscan.service.client import run_query

    return run_query


def build_sql(kind: str, filters: Filters, zone: str, by: str | None = None) -> tuple[str, list[Any], list[str]]:
    """SQL, parameters and label columns for one report kind (not blocks)."""
    where, wparams = filters.where()
    if kind in TIME_KINDS:
        label = {"daily": "day", "weekly": "week", "monthly": "month"}[kind]
        local = "timezone(?, b AT TIME ZONE 'UTC')"
        expr = {
            "daily": f"CAST({local} AS DATE)",
            "weekly": f"CAST(date_trunc('week', {local}) AS DATE)",
            "monthly": f"strftime({local}, '%Y-%m')",
        }[kind]
        bycol = f", {by}" if by else ""
        inner_by = "" if not by else f", {by}" if by == "tool" else f", coalesce(nullif({by}, ''), '{NO_LABEL}') AS {by}"
        sql = (
            f"WITH b AS (SELECT time_bucket(INTERVAL 15 MINUTE, ts) AS b{inner_by}, {_INNER} FROM events{where} GROUP BY ALL) "
            f"SELECT {expr} AS {label}{bycol}, {_OUTER} FROM b GROUP BY ALL ORDER BY 1{', 2' if by else ''}"
        )
        return sql, [*wparams, zone], [label, *([by] if by else [])]
    if kind == "session":
        sql = (
            "SELECT tool, session_id, min(project) AS project, min(ts) AS first_ts, max(ts) AS last_ts, "
            f"string_agg(DISTINCT model, ',' ORDER BY model) AS models, {_INNER} FROM events{where} "
            "GROUP BY tool, session_id ORDER BY last_ts, tool, session_id"
        )
        return sql, wparams, ["tool", "session_id", "project", "first", "last", "models"]
    if kind in ("project", "model", "tool", "host"):
        keys = {"project": ["project"], "model": ["tool", "model"], "tool": ["tool"], "host": ["host"]}[kind]
        cols = ", ".join(k if k == "tool" else f"coalesce(nullif({k}, ''), '{NO_LABEL}') AS {k}" for k in keys)
        sql = (
            f"SELECT {cols}, {_INNER} FROM events{where} GROUP BY ALL "
            f"ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, {', '.join(keys)}"
        )
        return sql, wparams, keys
    raise ReportError(f"Unknown report {kind!r}; choose one of {', '.join(KINDS)}.")


def report(
    db: Path,
    kind: str,
    filters: Filters | None = None,
    zone: str | None = None,
    *,
    by: str | None = None,
    now: datetime | None = None,
    query: QueryFn | None = None,
) -> Report:
    """Run one report and return its rows (labels first, then ``METRICS``)."""
    filters = filters or Filters()
    zone = resolve_zone(zone)
    run = query or _default_query()
    if by is not None and by not in BY_CHOICES:
        raise ReportError(f"--by takes one of {', '.join(BY_CHOICES)}, not {by!r}.")
    if by is not None and kind not in TIME_KINDS:
        raise ReportError(f"--by only applies to daily, weekly and monthly reports, not {kind}.")
    if kind == "blocks":
        return blocks_report(db, filters, zone, now=now, query=run)
    sql, params, labels = build_sql(kind, filters, zone, by)
    _, rows = run(db, sql, params)
    if kind == "session":
        rows = [(r[0], r[1], r[2], to_zone(r[3], zone), to_zone(r[4], zone), *r[5:]) for r in rows]
    return Report(kind, zone, [*labels, *METRICS], [tuple(r) for r in rows], len(labels))


# -- 5-hour blocks ----------------------------------------------------------------------


@dataclass
class Block:
    start: datetime  # naive UTC, on the hour
    first: datetime
    last: datetime
    sums: list[Any]  # METRICS order
    models: set[str] = field(default_factory=set)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=BLOCK_HOURS)


def group_blocks(hours: Sequence[Sequence[Any]]) -> list[Block]:
    """Per-UTC-hour sums (hour, first_ts, last_ts, models, *METRICS), ordered by hour, into
    blocks: a block starts at its first event's hour and covers [start, start + 5 h); the first
    event outside it starts the next block. A gap of more than 5 h always falls outside, so it
    also starts a new block. Block edges are whole hours, so summing per hour first is exact."""
    blocks: list[Block] = []
    for hour, first, last, models, *sums in hours:
        cur = blocks[-1] if blocks else None
        if cur is None or hour >= cur.end:
            blocks.append(Block(hour, first, last, list(sums), set(models or [])))
            continue
        cur.last = max(cur.last, last)
        cur.first = min(cur.first, first)
        cur.models.update(models or [])
        for i, v in enumerate(sums):
            if v is None:
                continue
            cur.sums[i] = v if cur.sums[i] is None else cur.sums[i] + v
    return blocks


def blocks_report(db: Path, filters: Filters, zone: str, *, now: datetime | None = None, query: QueryFn | None = None) -> Report:
    run = query or _default_query()
    f = Filters(filters.since, filters.until, [CLAUDE_TOOL], filters.projects, filters.models, filters.hosts)
    where, params = f.where()
    # Claude's 5-hour windows count Anthropic usage only: z.ai GLM (or other providers) reached
    # through Claude Code do not count against them.
    where = (where + " AND" if where.strip() else " WHERE") + " provider = 'anthropic'"
    sql = (
        f"SELECT date_trunc('hour', ts) AS h, min(ts), max(ts), list(DISTINCT model ORDER BY model), {_INNER} "
        f"FROM events{where} GROUP BY 1 ORDER BY 1"
    )
    _, rows = run(db, sql, params)
    now_utc = _utc(now) if now is not None and now.tzinfo else (now or datetime.now(timezone.utc).replace(tzinfo=None))
    out: list[tuple[Any, ...]] = []
    active: dict[str, Any] = {}
    tok_i, cost_i = METRICS.index("total_tokens"), METRICS.index("cost_usd")
    for b in group_blocks(rows):
        is_active = b.start <= now_utc < b.end
        burn_tpm = burn_cph = proj_tokens = proj_cost = None
        too_early = None
        if is_active:
            minutes = (b.last - b.first).total_seconds() / 60
            remaining = (b.end - now_utc).total_seconds() / 60
            n_events = b.sums[METRICS.index("events")] or 0
            if minutes < PROJECT_MIN_MINUTES or n_events < PROJECT_MIN_EVENTS:
                too_early = (f"too early to project: {n_events} call(s) over {minutes:.0f} min; a projection needs "
                             f"{PROJECT_MIN_EVENTS} calls over {PROJECT_MIN_MINUTES} min")
            elif minutes > 0:
                burn_tpm = b.sums[tok_i] / minutes
                proj_tokens = round(b.sums[tok_i] + burn_tpm * remaining)
                if b.sums[cost_i] is not None:
                    burn_cph = b.sums[cost_i] / minutes * 60
                    proj_cost = b.sums[cost_i] + burn_cph / 60 * remaining
            active = {
                "start": to_zone(b.start, zone),
                "end": to_zone(b.end, zone),
                "remaining_minutes": round(remaining),
                "tokens": b.sums[tok_i],
                "cost_usd": b.sums[cost_i],
                "burn_tokens_per_min": burn_tpm,
                "burn_cost_per_hour": burn_cph,
                "projected_tokens": proj_tokens,
                "projected_cost_usd": proj_cost,
                "too_early": too_early,
            }
        out.append(
            (
                to_zone(b.start, zone),
                to_zone(b.end, zone),
                "active" if is_active else "done",
                ",".join(sorted(b.models)),
                *b.sums,
                burn_tpm,
                burn_cph,
                proj_tokens,
                proj_cost,
            )
        )
    columns = ["block_start", "block_end", "status", "models", *METRICS, "burn_tokens_per_min", "burn_cost_per_hour", "projected_tokens", "projected_cost_usd"]
    return Report("blocks", zone, columns, out, 4, {"active": active})
