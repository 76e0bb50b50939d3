"""budget, export, import, prune, retention, doctor."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from logscan.commands.common import TOOL, db_path, emit, format_option, say
from logscan.errors import ExitCode


@click.group(invoke_without_command=True)
@click.option("--tz", "zone", help="Zone whose midnight starts a period [default: the machine's, or $TZ].")
@format_option
@click.pass_context
def budget(ctx: click.Context, zone: str | None, fmt: str, no_headers: bool) -> None:
    """Spending budgets; with no subcommand, shows this period's standing for each.

    The daemon alerts once per period when a budget is crossed: a desktop notification where
    one is available (notify-send, osascript), and the budget's --exec command when set.

    \b
    logscan budget set daily 20
    logscan budget set monthly 300 --tool claude-code --exec 'mail -s "$LOGSCAN_BUDGET_MESSAGE" me@example.com </dev/null'
    logscan budget
    logscan budget rm daily
    """
    if ctx.invoked_subcommand is not None:
        return
    from logscan.reports.budget import STANDING_COLUMNS, load_budgets, settings_path, standing
    from logscan.service.client import run_query
    from logscan.reports.report import resolve_zone

    budgets = load_budgets()
    if not budgets:
        say(f"No budgets set (they live in {settings_path()}). Add one: logscan budget set daily 20")
        return
    db = db_path(ctx)
    rows = [s.row() for s in standing(lambda sql, p: run_query(db, sql, p), budgets, resolve_zone(zone))]
    emit(STANDING_COLUMNS, rows, fmt, no_headers)


class BudgetAmount(click.ParamType):
    """US dollars: a positive, finite number up to 1e12 (``inf``, ``nan``, 0 and negatives are
    refused with one message before anything is written)."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        try:
            amount = float(value)
        except (TypeError, ValueError):
            amount = math.nan
        if not (math.isfinite(amount) and 0 < amount <= 1e12):
            self.fail(f"{value!r}: use a positive, finite USD amount such as 20 or 12.50.", param, ctx)
        return amount


# ignore_unknown_options: '-5' reaches AMOUNT (and is refused as negative) instead of
# reading as an unknown option '-5'.
@budget.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("period", type=click.Choice(["daily", "weekly", "monthly"]))
@click.argument("amount", type=BudgetAmount())
@click.option("--tool", type=TOOL, help="Only this tool's spending (claude-code, codex, gemini, opencode, cursor; claude, cc, oc); default all tools.")
@click.option("--exec", "exec_cmd", help="Shell command run when crossed; gets LOGSCAN_BUDGET_* variables.")
def budget_set(period: str, amount: float, tool: str | None, exec_cmd: str | None) -> None:
    """Set (or replace) the PERIOD budget to AMOUNT US dollars.

    \b
    logscan budget set weekly 100 --tool codex
    """
    from logscan.reports.budget import set_budget, settings_path

    b = set_budget(period, amount, tool, exec_cmd)
    say(f"{b.period} budget{' for ' + b.tool if b.tool else ''}: ${b.amount_usd:,.2f} (saved in {settings_path()}; the daemon picks it up)")


@budget.command("rm")
@click.argument("period", type=click.Choice(["daily", "weekly", "monthly"]))
@click.option("--tool", type=TOOL, help="The tool the budget was set for.")
def budget_rm(period: str, tool: str | None) -> None:
    """Remove the PERIOD budget (for --tool, when it was set per tool).

    \b
    logscan budget rm monthly --tool claude-code
    """
    from logscan.reports.budget import remove_budget

    if not remove_budget(period, tool):
        raise click.ClickException(f"No {period} budget{' for ' + tool if tool else ''} is set. See 'logscan budget'.")
    say(f"removed the {period} budget{' for ' + tool if tool else ''}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl"]), help="File format [default: from -o's suffix, else parquet].")
@click.option("--since", help="Only events from this date (YYYY-MM-DD, YYYYMMDD or 7d/2w/1m ago, in --tz).")
@click.option("--tz", "zone", help="Zone for --since dates [default: the machine's].")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="File to write [default: logscan-export-<host>-<date>.<format>].")
@click.pass_context
def export(ctx: click.Context, fmt: str | None, since: str | None, zone: str | None, out: Path | None) -> None:
    """Write every event (all columns, with the host that read it) to a file.

    Copy the file to another machine and run 'logscan import FILE' there to see one ledger.

    \b
    logscan export -o laptop.parquet
    logscan export --format csv --since 30d -o last-month.csv
    """
    import socket

    from logscan.store.export import format_of, write_call
    from logscan.reports.report import parse_bound, resolve_zone

    if out is None:
        fmt = fmt or "parquet"
        out = Path(f"logscan-export-{socket.gethostname()}-{datetime.now():%Y%m%d}.{fmt}")
    fmt = format_of(out, fmt) if fmt is None else fmt
    bound = parse_bound(since, resolve_zone(zone)) if since else None
    res = write_call(db_path(ctx), "logscan.store.export:export_events", {"path": str(out.resolve()), "fmt": fmt, "since": bound})
    say(f"exported {res['events']:,} events to {res['path']} ({res['bytes'] / 1e6:,.1f} MB, {res['format']})")


@click.command("import")
@click.argument("file")
@click.argument("cursor_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl"]), help="[default: from the file's suffix]")
@click.pass_context
def import_cmd(ctx: click.Context, file: str, cursor_file: Path | None, fmt: str | None) -> None:
    """Merge an export from another machine, or Cursor's usage CSV ('import cursor FILE').

    Events are matched by event_id with the same rule as ingestion, so importing the same file
    twice adds nothing. Cursor's dashboard export (cursor.com/dashboard, Usage, export CSV)
    becomes events with tool 'cursor', at the cost Cursor charged.

    \b
    logscan import laptop.parquet
    logscan import cursor usage-events-2026-12-01.csv
    """
    from logscan.store.export import format_of, write_call

    if file == "cursor" and cursor_file is not None:
        from logscan.ingest.cursor_import import TARGET

        res = write_call(db_path(ctx), TARGET, {"path": str(cursor_file.resolve())})
        say(f"read {res['rows']:,} rows from {cursor_file}: {res['new_events']:,} new events, {res['updated_events']:,} updated")
        if res["included"]:
            say(f"{res['included']:,} included in the plan: cost NULL (no charge known)")
        if res["problems"]:
            say(f"{res['problems']:,} rows could not be used: see 'logscan problems'")
        return
    if cursor_file is not None:
        raise click.UsageError("one file at a time; for Cursor's CSV: logscan import cursor FILE")
    if file == "cursor" and not Path(file).is_file():
        raise click.UsageError("which Cursor export? logscan import cursor usage-events.csv (cursor.com/dashboard, Usage, Export CSV)")
    if not Path(file).is_file():
        raise click.BadParameter(f"{file!r} is not a file", param_hint="FILE")
    file = Path(file)  # type: ignore[assignment]

    res = write_call(db_path(ctx), "logscan.store.export:import_file", {"path": str(file.resolve()), "fmt": format_of(file, fmt)})
    say(f"read {res['rows']:,} rows from {file}: {res['new_events']:,} new events, {res['updated_events']:,} updated"
        + (f", {res['sidechain_replays_dropped']:,} sidechain replays dropped" if res["sidechain_replays_dropped"] else "")
        + (f" (ignored unknown columns: {', '.join(res['ignored_columns'])})" if res["ignored_columns"] else ""))


@click.command()
@click.option("--before", required=True, help="Delete events before this date (YYYY-MM-DD in --tz, or 400d/12m ago).")
@click.option("--tz", "zone", help="Zone for the date [default: the machine's].")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@click.pass_context
def prune(ctx: click.Context, before: str, zone: str | None, yes: bool) -> None:
    """Delete events older than a date (source logs are never touched).

    \b
    logscan prune --before 2025-01-01 --yes
    logscan prune --before 400d
    """
    from logscan.service.client import run_query
    from logscan.store.export import write_call
    from logscan.reports.report import parse_bound, resolve_zone

    cut = parse_bound(before, resolve_zone(zone))
    db = db_path(ctx)
    n = run_query(db, "SELECT count(*) FROM events WHERE ts < ?", [cut])[1][0][0]
    if not n:
        say(f"No events before {cut:%Y-%m-%d %H:%M} UTC; nothing to do.")
        return
    if not yes and not click.confirm(f"Delete {n:,} events before {cut:%Y-%m-%d %H:%M} UTC from {db}?", err=True):
        raise click.ClickException("Nothing deleted. Pass --yes to prune without asking.")
    res = write_call(db, "logscan.store.export:prune_events", {"before": cut})
    say(f"deleted {res['deleted']:,} events before {cut:%Y-%m-%d %H:%M} UTC")


@click.command()
@click.argument("span", required=False)
@click.option("--apply", "apply_now", is_flag=True, help="Delete events past the retention now (the daemon does it hourly).")
@click.pass_context
def retention(ctx: click.Context, span: str | None, apply_now: bool) -> None:
    """Show or set how long events are kept (e.g. 400d, 12m; 'off' keeps everything).

    The daemon deletes older events at most once an hour; --apply does it now.

    \b
    logscan retention 400d
    logscan retention off
    logscan retention --apply
    """
    from logscan.store.export import retention_cutoff, retention_days, set_retention, write_call

    days = set_retention(span) if span else retention_days()
    if span:
        say(f"retention set to {days} days" if days else "retention off: events are kept forever")
    else:
        click.echo(f"{days} days" if days else "off")
    if apply_now:
        if not days:
            raise click.ClickException("No retention is set; set one first, e.g. 'logscan retention 400d'.")
        res = write_call(db_path(ctx), "logscan.store.export:prune_events", {"before": retention_cutoff(days)})
        say(f"deleted {res['deleted']:,} events older than {days} days")


@click.command()
@format_option
@click.option("--strict", is_flag=True, help="Exit with status 3 when lines were quarantined as problems.")
@click.pass_context
def doctor(ctx: click.Context, fmt: str, no_headers: bool, strict: bool) -> None:
    """Check roots, permissions, daemon, service, prices, problems and duplicates; say what to do.

    Exits 1 when a check fails (status 'error').

    \b
    logscan doctor
    logscan doctor -f json
    """
    from logscan.service.doctor import COLUMNS, run_checks

    findings = run_checks(db_path(ctx), now=datetime.now(timezone.utc))
    if fmt == "table":
        _print_findings(findings)
    else:
        emit(COLUMNS, [f.row() for f in findings], fmt, no_headers)
    if any(f.status == "error" for f in findings):
        ctx.exit(ExitCode.ERROR)
    if strict and any(f.check == "problems" and f.status != "ok" for f in findings):
        ctx.exit(ExitCode.INPUT_PROBLEMS)


def _print_findings(findings: list[Any]) -> None:
    """One finding per paragraph, wrapped to the terminal (never cut): status, check, what was
    found, and on the next lines what to do."""
    from logscan.commands.common import fill

    indent = " " * 20
    for f in findings:
        click.echo(fill(f.finding, f"{f.status:<6} {f.check:<11}  ", indent, pipe=100))
        if f.todo:
            click.echo(fill(f.todo, indent + "-> ", indent + "   ", pipe=100))

