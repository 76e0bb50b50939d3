"""usage paste (ingest -), statusline, quota, quota value, quota plan."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from logscan.commands.common import TOOL, db_path, emit, format_option, say
from logscan.errors import ExitCode

SNAP_COLUMNS = ["tool", "window", "scope", "used_percent", "resets_at", "credits", "zone_assumed"]


def _zone(tz: str | None) -> Any:
    if not tz:
        return None
    from logscan.quota.timeparse import get_zone

    z = get_zone(tz)
    if z is None:
        raise click.BadParameter(f"{tz!r} is not an IANA zone name (e.g. Europe/Vienna).", param_hint="--tz")
    return z


def _captured_at(at: str | None) -> datetime:
    """When the panel was on screen: --at (ISO 8601; without a zone, local time), else now."""
    if not at:
        return datetime.now(timezone.utc).replace(microsecond=0)
    from dateutil import parser as dparser

    try:
        t = dparser.isoparse(at)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{at!r} is not an ISO 8601 time, e.g. 2026-07-09T15:05Z or 2026-07-09T17:05+02:00.", param_hint="--at") from None
    if t.tzinfo is None:
        t = t.astimezone()  # the local zone
    t = t.astimezone(timezone.utc)
    if t > datetime.now(timezone.utc) + timedelta(minutes=5):
        raise click.BadParameter(f"{at!r} is in the future; --at is when the panel was shown.", param_hint="--at")
    return t


def _paste(ctx: click.Context, fmt: str, no_headers: bool, tz: str | None, dry_run: bool, at: str | None = None) -> None:
    from logscan.quota.storage import save
    from logscan.quota.text import QuotaTextError, parse_panel

    text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("Nothing on stdin. Copy the /usage (Claude Code) or /status (Codex) panel and pipe it in, e.g. pbpaste | logscan usage paste")
    captured = _captured_at(at)
    try:
        res = parse_panel(text, captured, zone=_zone(tz))
    except QuotaTextError as e:
        say(str(e))
        ctx.exit(ExitCode.ERROR)
    rows = [(s.tool, s.window, s.scope, s.used_percent, s.resets_at, s.credits, s.zone_assumed) for s in res.snapshots]
    emit(SNAP_COLUMNS, rows, fmt, no_headers)
    for note in res.notes:
        say(f"note: {note}")
    if dry_run:
        say("dry run: nothing stored")
        return
    new, how = save(db_path(ctx), res.snapshots)
    say(f"stored {new} {res.tool} reading(s) captured at {captured.isoformat()} ({'through the daemon' if how == 'daemon' else 'into ' + str(db_path(ctx))})")


def paste_options(fn: Any) -> Any:
    fn = click.option("--dry-run", is_flag=True, help="Parse and show, store nothing.")(fn)
    fn = click.option("--at", "at", metavar="TIME", help="When the panel was shown, for one copied earlier (ISO 8601, e.g. 2026-07-09T15:05Z) [default: now].")(fn)
    fn = click.option("--tz", help="Zone for reset times the panel prints without one [default: the local zone].")(fn)
    return format_option(fn)


@click.group()
def usage() -> None:
    """Record quota bars copied from the assistants' own panels."""


@usage.command("paste")
@paste_options
@click.pass_context
def usage_paste(ctx: click.Context, fmt: str, no_headers: bool, tz: str | None, dry_run: bool, at: str | None) -> None:
    """Read a Claude Code /usage panel or a Codex /status card from stdin and store its bars.

    The kind of panel is detected. Terminal captures with colours, CR line endings or several
    redrawn frames are fine: the last complete panel wins. A loading or error panel stores
    nothing and exits with status 1.

    \b
    pbpaste | logscan usage paste
    logscan usage paste --tz Europe/Vienna < usage.txt
    logscan usage paste --at 2026-07-09T15:05Z < copied-earlier.txt
    """
    _paste(ctx, fmt, no_headers, tz, dry_run, at)


@click.command("ingest")
@click.argument("source")
@paste_options
@click.pass_context
def ingest_cmd(ctx: click.Context, source: str, fmt: str, no_headers: bool, tz: str | None, dry_run: bool, at: str | None) -> None:
    """'logscan ingest -' is 'logscan usage paste': read a /usage or /status panel from stdin.

    \b
    pbpaste | logscan ingest -
    """
    if source != "-":
        raise click.BadParameter(f"{source!r}: only '-' (stdin) is accepted here. To read log files use 'logscan backfill {source}'.", param_hint="SOURCE")
    _paste(ctx, fmt, no_headers, tz, dry_run, at)


@click.command()
@click.option("--print-config", is_flag=True, help="Print the settings.json snippet for Claude Code and exit.")
def statusline(print_config: bool) -> None:
    """Claude Code statusLine command: reads its JSON on stdin, prints one line.

    Shows today's cost, the session (5h) and weekly bars, and records the bars it is given.
    For the fastest start (about 20 ms) point Claude Code at the module directly; see
    --print-config.
    """
    from logscan.quota import statusline as sl

    if print_config:
        import json

        cmd = f"{sys.executable} -S {Path(sl.__file__).resolve()}"
        click.echo(json.dumps({"statusLine": {"type": "command", "command": cmd, "padding": 0}}, indent=2))
        return
    sl.main()


@click.group(invoke_without_command=True)
@click.option("--tool", type=TOOL, help="Only this tool (claude-code or claude, codex, gemini, opencode).")
@format_option
@click.pass_context
def quota(ctx: click.Context, tool: str | None, fmt: str, no_headers: bool) -> None:
    """Quota bars per tool: used share, time to reset and a burn-rate forecast.

    \b
    logscan quota
    logscan quota value          # tokens and dollars per 1% of each bar
    logscan quota plan --budget 20
    """
    ctx.ensure_object(dict)
    ctx.obj["tool"] = tool
    if ctx.invoked_subcommand is not None:
        return
    from logscan.quota.plan import bars, group, time_left
    from logscan.quota.storage import load_snapshots

    now = datetime.now(timezone.utc)
    snaps = load_snapshots(db_path(ctx), tool)
    if not snaps:
        say("No quota readings yet. Paste a panel (logscan usage paste), use 'logscan statusline' in Claude Code, or ingest Codex rollouts.")
        return
    rows = []
    for b in bars(group(snaps), now):
        rows.append((
            b.key[0], b.key[1], b.key[2], b.used, b.credits, b.captured_at.replace(tzinfo=None), b.resets_at.replace(tzinfo=None) if b.resets_at else None,
            time_left(b.resets_at, now), round(b.rate_per_h, 2) if b.rate_per_h is not None else None,
            round(b.projected, 1) if b.projected is not None else None, b.hits_at.replace(tzinfo=None) if b.hits_at else None, b.note,
        ))
    emit(["tool", "window", "scope", "used_percent", "credits", "read_at", "resets_at", "resets_in", "pct_per_hour", "now_est", "hits_100_at", "forecast"], rows, fmt, no_headers)


@quota.command("value")
@click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True, help="Confidence level of the interval.")
@format_option
@click.pass_context
def quota_value(ctx: click.Context, level: float, fmt: str, no_headers: bool) -> None:
    """Tokens and API-equivalent dollars per 1% of each bar, with a confidence interval.

    A ratio-of-totals estimate over consecutive readings within one reset period (delta-method
    interval). Usage outside these logs (claude.ai, other machines) moves the bars too, so the
    value is a lower bound when that happens.
    """
    from logscan.quota.plan import group, values
    from logscan.quota.storage import load_snapshots

    db = db_path(ctx)
    snaps = load_snapshots(db, ctx.obj.get("tool"))
    if not snaps:
        say("No quota readings yet: nothing to estimate. See 'logscan quota --help'.")
        return
    rows = []
    for v in values(db, group(snaps), level):
        t, d = v.tokens, v.dollars
        rows.append((v.key[0], v.key[1], v.key[2], t.n, t.ratio, t.low, t.high, d.ratio, d.low, d.high, v.unpriced_events or None, t.reason or ""))
    pct = f"{level * 100:g}"
    emit(["tool", "window", "scope", "intervals", "tokens_per_pct", f"tokens_lo{pct}", f"tokens_hi{pct}", "usd_per_pct", f"usd_lo{pct}", f"usd_hi{pct}", "unpriced_events", "note"], rows, fmt, no_headers)
    if fmt == "table" and any(r[4] is None for r in rows):
        say("Too few readings for some windows: paste /usage or /status now and then while you work (or use the statusline) to get more intervals.")


@quota.command("plan")
@click.option("--budget", type=click.FloatRange(min=0.01), required=True, help="Dollars-equivalent (API prices) of work to place.")
@click.option("--explore", is_flag=True, help="Thompson sampling: draw each window's value from its uncertainty, so options with few readings get tried.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws (--explore).")
@format_option
@click.pass_context
def quota_plan(ctx: click.Context, budget: float, explore: bool, seed: int, fmt: str, no_headers: bool) -> None:
    """Which tool/model to use for the next BUDGET dollars of work (greedy fractional knapsack).

    Each window's remaining share times its value per percent is its capacity in dollars; the
    option whose scarcest window buys the most per percent is filled first. With --explore the
    values are drawn from what the readings say (a window with few readings is uncertain and is
    sometimes tried), and the plan reports the expected dollars placed and a 90 % range.

    \b
    logscan quota plan --budget 25
    logscan quota plan --budget 25 --explore --seed 1
    """
    from logscan.quota.plan import bars, group, plan, values
    from logscan.quota.storage import load_snapshots

    db = db_path(ctx)
    snaps = load_snapshots(db, ctx.obj.get("tool"))
    if not snaps:
        say("No quota readings yet: nothing to plan with. See 'logscan quota --help'.")
        ctx.exit(ExitCode.ERROR)
    g = group(snaps)
    vs = values(db, g)
    current = bars(g, datetime.now(timezone.utc))
    if explore:
        from logscan.quota.explore import explore as run_explore

        ex = run_explore(budget, current, {v.key: v.dollars for v in vs}, seed=seed)
        allocs, unplaced, reasons = ex.allocations, ex.unplaced, ex.reasons
        reasons.append(f"over 200 draws: ${ex.expected_placed:,.2f} expected in subscription windows (90 %: ${ex.placed_range[0]:,.2f} to "
                       f"${ex.placed_range[1]:,.2f}); first choice " + ", ".join(f"{k} {v * 100:.0f} %" for k, v in ex.first_choice.items()))
    else:
        vals = {v.key: v.dollars.ratio for v in vs if v.dollars.ratio}
        allocs, unplaced, reasons = plan(budget, current, vals)  # type: ignore[arg-type]
    rows: list[tuple[Any, ...]] = [(a.option, round(a.dollars, 2), round(a.usd_per_pct, 4), a.binding, ", ".join(f"{k} +{p:.1f}%" for k, p in a.pct_used.items())) for a in allocs]
    if unplaced > 0:
        rows.append(("API (pay as you go)", round(unplaced, 2), None, "", ""))
    emit(["use", "usd", "usd_per_pct", "binding_window", "bars_used"], rows, fmt, no_headers)
    for r in reasons:
        say(f"- {r}")
