"""Bare ``logscan``: what a person wants at a glance, in a few lines, exit 0.

Today, this week (Monday first) and this month in the machine's zone, per tool, with tokens
and cost; the active Claude 5-hour block; the latest quota bars; whether the daemon runs. With
no store yet it says how to make one. Every read goes through ``run_query`` (the daemon's
socket when it runs), so it is as fast as a report; ``logscan --help`` stays the help.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from logscan.reports.cells import money
from logscan.reports.chart import human


def _tokens(n: int | None) -> str:
    return human(int(n or 0))


def summary(db: Path, now: datetime | None = None) -> list[str]:
    """The lines bare ``logscan`` prints (no trailing newlines)."""
    from logscan.errors import LogscanError
    from logscan.models import FUTURE_SKEW
    from logscan.reports.budget import period_start, utc_midnight
    from logscan.reports.report import blocks_report, machine_zone, resolve_zone
    from logscan.service.client import NoDaemon, daemon_status, run_query

    now = now or datetime.now(timezone.utc)
    try:
        st = daemon_status(db, timeout=2.0)
        daemon = f"running (pid {st.get('pid', '?')}, lag {st.get('lag_s') or 0:.0f} s)" if st else "running"
    except NoDaemon:
        daemon = "not running ('logscan service install' keeps the store current)"
    except LogscanError as e:
        daemon = f"not answering ({str(e).splitlines()[0][:80]})"
    if not db.exists() and not daemon.startswith("running"):
        return [f"No store yet at {db}.",
                "Run 'logscan backfill' to read the logs already on this machine, then 'logscan report daily'.",
                f"daemon: {daemon}"]
    zone = resolve_zone(machine_zone())
    local = now.astimezone(ZoneInfo(zone))
    today, week, month = (utc_midnight(period_start(p, now, zone), zone) for p in ("daily", "weekly", "monthly"))
    start = min(week, month)
    end = now.astimezone(timezone.utc).replace(tzinfo=None) + FUTURE_SKEW
    sql = (
        "SELECT tool, "
        + ", ".join("sum(total_tokens) FILTER (WHERE ts >= ?), sum(cost_usd) FILTER (WHERE ts >= ?), count(*) FILTER (WHERE ts >= ? AND cost_usd IS NULL)"
                    for _ in range(3))
        + " FROM events WHERE ts >= ? AND ts <= ? GROUP BY tool ORDER BY tool"
    )
    params: list[Any] = []
    for b in (today, week, month):
        params += [b, b, b]
    _, rows = run_query(db, sql, [*params, start, end])
    out = [f"logscan  ({zone}; {now.astimezone(local.tzinfo):%a %Y-%m-%d %H:%M})", ""]
    if not rows:
        out.append("No usage this month yet. 'logscan report monthly' shows earlier months; 'logscan backfill' reads logs.")
    else:
        out.append(f"{'':12}  {'today':>17}  {'this week':>17}  {'this month':>17}")
        totals = [[0, 0.0, 0] for _ in range(3)]
        for tool, *vals in rows:
            cells = []
            for k in range(3):
                tok, cost, unpriced = vals[3 * k: 3 * k + 3]
                totals[k][0] += int(tok or 0)
                totals[k][1] += float(cost or 0)
                totals[k][2] += int(unpriced or 0)
                cells.append(f"{_tokens(tok):>7} {money(cost) if tok else '-':>9}")
            out.append(f"{tool:12}  " + "  ".join(cells))
        if len(rows) > 1:
            out.append(f"{'all tools':12}  " + "  ".join(f"{_tokens(t):>7} {money(c):>9}" for t, c, _ in totals))
        if any(u for *_, u in totals):
            out.append("  (some events have no price: costs are lower bounds; see 'logscan doctor')")
    rep = blocks_report(db, _since(now - timedelta(hours=10)), zone, now=now)
    a = rep.extra.get("active")
    out.append("")
    if a:
        out.append(f"5-hour block: {a['start']:%H:%M}-{a['end']:%H:%M}, {a['remaining_minutes']} min left, "
                   f"{_tokens(a['tokens'])} tokens, {money(a['cost_usd'])}")
    else:
        out.append("5-hour block: none active")
    out.extend(_bars(db, now))
    out.append(f"daemon: {daemon}")
    out.append("More: logscan report daily | session | blocks, logscan quota, logscan --help")
    return out


def _since(t: datetime) -> Any:
    from logscan.reports.report import Filters

    return Filters(since=t.astimezone(timezone.utc).replace(tzinfo=None))


def _bars(db: Path, now: datetime) -> list[str]:
    from logscan.quota.plan import bars, group, time_left
    from logscan.quota.storage import load_snapshots

    snaps = load_snapshots(db, None)
    if not snaps:
        return ["quota: no readings ('logscan usage paste' or the statusline records them)"]
    out = []
    for b in bars(group(snaps), now):
        if b.used is None:
            continue
        filled = int(round(max(0.0, min(100.0, b.used)) / 5))
        left = time_left(b.resets_at, now)
        left = " reset passed" if left == "passed" else f" resets in {left}" if left else ""
        if (now - b.captured_at).total_seconds() > 86400:
            left += f" (read {b.captured_at:%Y-%m-%d})"
        name = f"{b.key[0]} {b.key[1]}" + (f" ({b.key[2]})" if b.key[2] else "")
        out.append(f"quota {name[:30]:30} [{'#' * filled}{'.' * (20 - filled)}] {b.used:5.1f}%{left}")
    return out or ["quota: no readings with a percentage"]


def show_summary(ctx: click.Context) -> None:
    for line in summary(ctx.obj["db"]):
        click.echo(line)
