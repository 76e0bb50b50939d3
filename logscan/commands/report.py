"""report daily|weekly|monthly|session|project|model|tool|host|blocks|html."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from logscan.commands.common import TOOL, db_path, format_option, say, table_options
from logscan.reports.output import write_rows, write_table

F = TypeVar("F", bound=Callable[..., Any])


def filter_options(fn: F) -> F:
    for opt in reversed(
        [
            click.option("--since", help="From this day (YYYY-MM-DD or YYYYMMDD, local), an ISO datetime, or 12h/7d/2w/1m ago."),
            click.option("--until", help="Up to and including this day (whole local day; same forms as --since)."),
            click.option("--tz", "zone", help="Time zone for days, weeks and months [default: the machine's, or $TZ]."),
            click.option("--tool", "tools", type=TOOL, multiple=True, help="Only this tool (repeatable): claude-code (claude, cc), codex, gemini, opencode (oc), cursor."),
            click.option("--project", "projects", multiple=True, help="Only projects whose path contains this (repeatable)."),
            click.option("--model", "models", multiple=True, help="Only models whose name contains this (repeatable)."),
            click.option("--host", "hosts", multiple=True, help="Only events read on this machine (repeatable; see 'report host')."),
        ]
    ):
        fn = opt(fn)
    return fn


def _filters(zone: str | None, since: str | None, until: str | None, tools: tuple[str, ...], projects: tuple[str, ...], models: tuple[str, ...],
             hosts: tuple[str, ...] = ()) -> Any:
    from logscan.reports.report import Filters, parse_bound, resolve_zone

    z = resolve_zone(zone)
    return z, Filters(
        since=parse_bound(since, z) if since else None,
        until=parse_bound(until, z, end=True) if until else None,
        tools=tools,
        projects=projects,
        models=models,
        hosts=hosts,
    )


# Columns given up first when a table is wider than the terminal (--compact: all of them).
LOW_VALUE = {
    "time": ["unpriced", "cache_write", "cache_read", "events", "input", "output"],
    "session": ["unpriced", "cache_write", "cache_read", "first", "models", "input", "output", "events", "tool"],
    "group": ["unpriced", "cache_write", "cache_read", "input", "output", "events"],
    "blocks": ["unpriced", "cache_write", "cache_read", "input", "output", "models", "events", "block_end"],
}
DEFAULT_ORDER = {"daily": "asc", "weekly": "asc", "monthly": "asc", "session": "asc", "blocks": "asc"}  # the rest: desc (by cost)


def show(rep: Any, fmt: str, no_headers: bool, *, compact: bool = False, wide: bool = False, order: str | None = None,
         total_rows: list[tuple[Any, ...]] | None = None) -> None:
    """Machine formats get the rows only; the table adds a totals row under a rule and fits the
    terminal. ``order``: asc or desc against the report's natural order (oldest first for time
    and sessions, most expensive first for the rest)."""
    rows = list(rep.rows)
    if order and order != DEFAULT_ORDER.get(rep.kind, "desc"):
        rows.reverse()
    if fmt != "table":
        write_rows(rep.columns, rows, fmt, sys.stdout, headers=not no_headers)
        return
    if not rows:
        say("No usage matches these filters.")
        return
    kind = "time" if rep.kind in ("daily", "weekly", "monthly") else rep.kind if rep.kind in LOW_VALUE else "group"
    write_table(rep.columns, [*rows, *(total_rows or [rep.totals()])], sys.stdout, headers=not no_headers,
                drop_order=LOW_VALUE[kind], compact=compact, wide=wide, totals=True)


def breakdown_rows(period: Any, by_model: Any) -> list[tuple[Any, ...]]:
    """Each period's row, then one indented row per model under it (``--breakdown``)."""
    models: dict[Any, list[tuple[Any, ...]]] = {}
    for r in by_model.rows:
        models.setdefault(r[0], []).append(r)
    out: list[tuple[Any, ...]] = []
    n = period.keys
    for r in period.rows:
        out.append(r)
        for m in models.get(r[0], []):
            out.append(("  " + str(m[n] or "(no model)"), *[""] * (n - 1), *m[n + 1:]))
    return out


def _time_report(kind: str) -> click.Command:
    @click.command(kind)
    @filter_options
    @click.option("--by", type=click.Choice(["tool", "model", "project", "host"]), help="Split each period by this too.")
    @click.option("--breakdown", is_flag=True, help="Per-model rows under each period (json/csv: one row per period and model).")
    @click.option("--order", type=click.Choice(["asc", "desc"]), help="Oldest first (asc, the default) or newest first.")
    @click.option("--chart", is_flag=True, help="Draw a bar chart of cost (and tokens) instead of the table.")
    @table_options
    @format_option
    @click.pass_context
    def cmd(ctx: click.Context, since: str | None, until: str | None, zone: str | None, tools: tuple[str, ...],
            projects: tuple[str, ...], models: tuple[str, ...], hosts: tuple[str, ...], by: str | None, breakdown: bool, order: str | None,
            chart: bool, compact: bool, wide: bool, fmt: str, no_headers: bool) -> None:
        from logscan.reports.report import report

        if breakdown and by:
            raise click.UsageError("--breakdown already splits by model; use it or --by, not both.")
        z, f = _filters(zone, since, until, tools, projects, models, hosts)
        rep = report(db_path(ctx), kind, f, z, by=by)
        if chart:
            _chart(rep)
            return
        if breakdown:
            per_model = report(db_path(ctx), kind, f, z, by="model")
            if fmt != "table":
                show(per_model, fmt, no_headers, order=order)
                return
            totals = rep.totals()
            if order and order != "asc":
                rep.rows.reverse()
            rep.rows = breakdown_rows(rep, per_model)
            show(rep, fmt, no_headers, compact=compact, wide=wide, total_rows=[totals])
            return
        show(rep, fmt, no_headers, compact=compact, wide=wide, order=order)

    cmd.help = inspect.cleandoc(f"""Token usage and cost per {dict(daily='day', weekly='week (Monday first)', monthly='month')[kind]} in your time zone.

    Columns: input, output, cache_read, cache_write, total_tokens, cost_usd (unpriced events
    are left out of the sum), events, unpriced (how many had no price). The table ends with a
    totals row; json/csv/ndjson carry the rows only.

    \b
    logscan report {kind} --since 30d
    logscan report {kind} --tz Europe/Berlin --tool claude-code -f json
    logscan report {kind} --by model --since 2026-01-01 --until 2026-01-31
    logscan report {kind} --chart
    """)
    return cmd


def _chart(rep: Any) -> None:
    from logscan.reports.cells import money
    from logscan.reports.chart import bar_chart, human

    if not rep.rows:
        say("No usage matches these filters.")
        return
    k = rep.keys
    labels = [" ".join("" if v is None else str(v) for v in r[:k]) for r in rep.rows]
    cost = [r[rep.columns.index("cost_usd")] for r in rep.rows]
    tokens = [r[rep.columns.index("total_tokens")] for r in rep.rows]
    unpriced = [r[rep.columns.index("unpriced")] for r in rep.rows]
    if any(c for c in cost):
        notes = [f"{human(t)} tokens" + (f", {u} unpriced" if u else "") for t, u in zip(tokens, unpriced, strict=True)]
        sys.stdout.write(bar_chart(labels, cost, fmt=money, notes=notes, title=f"cost (USD) per {rep.columns[0]}, {rep.zone}"))
    else:
        sys.stdout.write(bar_chart(labels, tokens, title=f"total tokens per {rep.columns[0]}, {rep.zone} (no priced events)"))


def _group_report(kind: str, doc: str) -> click.Command:
    @click.command(kind)
    @filter_options
    @click.option("--order", type=click.Choice(["asc", "desc"]), help=f"Sort order [default: {'asc, oldest first' if kind == 'session' else 'desc, most expensive first'}].")
    @table_options
    @format_option
    @click.pass_context
    def cmd(ctx: click.Context, since: str | None, until: str | None, zone: str | None, tools: tuple[str, ...],
            projects: tuple[str, ...], models: tuple[str, ...], hosts: tuple[str, ...], order: str | None, compact: bool, wide: bool,
            fmt: str, no_headers: bool) -> None:
        from logscan.reports.report import report

        z, f = _filters(zone, since, until, tools, projects, models, hosts)
        show(report(db_path(ctx), kind, f, z), fmt, no_headers, compact=compact, wide=wide, order=order)

    cmd.help = inspect.cleandoc(doc)
    return cmd


@click.group("report")
def report_group() -> None:
    """Usage reports: per day, week, month, session, project, model, tool; 5-hour blocks; HTML.

    \b
    logscan report daily --since 7d
    logscan report monthly -f csv > months.csv
    logscan report blocks
    logscan report html -o usage.html
    """


for _k in ("daily", "weekly", "monthly"):
    report_group.add_command(_time_report(_k))
report_group.add_command(_group_report("session", """Usage per session (tool + session id), oldest first, with first/last time in your zone.

    \b
    logscan report session --since 7d
    logscan report session --project spotter -f json
    """))
report_group.add_command(_group_report("project", """Usage per project (the working directory), most expensive first.

    \b
    logscan report project --since 1m
    """))
report_group.add_command(_group_report("model", """Usage per tool and model, most expensive first.

    \b
    logscan report model --since 2026-01-01
    """))
report_group.add_command(_group_report("host", """Usage per machine (the host that read the log), most expensive first.

    After 'logscan sync' (or 'import') the store holds every machine's events; --host picks one.

    \b
    logscan report host --since 1m
    logscan report daily --by host --since 7d
    """))
report_group.add_command(_group_report("tool", """Usage per tool (claude-code, codex, ...), most expensive first.

    \b
    logscan report tool -f json
    """))


@report_group.command("blocks")
@filter_options
@click.option("--active", is_flag=True, help="Only the block that is running now.")
@table_options
@format_option
@click.pass_context
def blocks(ctx: click.Context, since: str | None, until: str | None, zone: str | None, tools: tuple[str, ...],
           projects: tuple[str, ...], models: tuple[str, ...], hosts: tuple[str, ...], active: bool, compact: bool, wide: bool,
           fmt: str, no_headers: bool) -> None:
    """Claude Code usage in 5-hour billing blocks, with the active block's burn rate.

    A block starts at its first message's hour (UTC, floored) and lasts 5 hours; the first
    message after it starts the next block. Only Anthropic usage counts (GLM or other models
    reached through Claude Code do not). For the active block the burn rate (tokens per minute,
    USD per hour, over its first to last message) projects the totals at its end, once it has
    calls spanning 15 minutes ("too early" before that).

    \b
    logscan report blocks --since 2d
    logscan report blocks --active -f json
    """
    from logscan.reports.report import report

    if tools and set(tools) != {"claude-code"}:
        raise click.BadParameter("blocks are Claude Code's billing windows; only --tool claude-code applies.", param_hint="--tool")
    z, f = _filters(zone, since, until, (), projects, models, hosts)
    rep = report(db_path(ctx), "blocks", f, z)
    if active:
        rep.rows = [r for r in rep.rows if r[2] == "active"]
    if fmt != "table":
        show(rep, fmt, no_headers)
        return
    n = len(rep.columns) - 4  # the burn/projection columns are shown below the table
    cut = type(rep)(rep.kind, rep.zone, rep.columns[:n], [r[:n] for r in rep.rows], rep.keys)
    show(cut, fmt, no_headers, compact=compact, wide=wide)
    a = rep.extra.get("active")
    if a:
        def fmt_opt(v: float | None, f: str) -> str:
            return "n/a" if v is None else format(v, f)

        head = (f"\nactive block {a['start']:%Y-%m-%d %H:%M} to {a['end']:%H:%M} ({a['remaining_minutes']} min left): "
                f"{a['tokens']:,} tokens, ${fmt_opt(a['cost_usd'], ',.2f')}")
        if a.get("too_early"):
            click.echo(f"{head}\n{a['too_early']}")
        else:
            click.echo(
                f"{head}\n"
                f"burn rate: {fmt_opt(a['burn_tokens_per_min'], ',.0f')} tokens/min, ${fmt_opt(a['burn_cost_per_hour'], ',.2f')}/h; "
                f"projected at block end: {fmt_opt(a['projected_tokens'], ',')} tokens, ${fmt_opt(a['projected_cost_usd'], ',.2f')}"
            )
    elif rep.rows:
        say("No active block (no Claude Code usage in the last 5 hours' window).")


@report_group.command("html")
@filter_options
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), default=Path("logscan-report.html"),
              show_default=True, help="Where to write the page ('-' for stdout).")
@click.pass_context
def html(ctx: click.Context, since: str | None, until: str | None, zone: str | None, tools: tuple[str, ...],
         projects: tuple[str, ...], models: tuple[str, ...], hosts: tuple[str, ...], out: Path) -> None:
    """One self-contained HTML page with charts per day, tool, model and project.

    The page has no external links or scripts, so it can be mailed or opened offline.

    \b
    logscan report html -o usage.html --since 30d
    """
    from logscan.reports.html import render

    z, f = _filters(zone, since, until, tools, projects, models, hosts)
    page = render(db_path(ctx), f, z, generated=datetime.now().astimezone())
    if str(out) == "-":
        sys.stdout.write(page)
    else:
        out.write_text(page, encoding="utf-8")
        say(f"wrote {out} ({len(page) / 1024:,.0f} KiB); open it in a browser")
