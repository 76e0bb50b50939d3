"""backfill, query, problems, schema, parsers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from logscan.commands.common import db_path, emit, format_option, say
from logscan.errors import ExitCode


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--strict", is_flag=True, help="Exit with status 3 when any line became a problem.")
@click.pass_context
def backfill(ctx: click.Context, paths: tuple[Path, ...], quiet: bool, as_json: bool, strict: bool) -> None:
    """Ingest session logs once: new bytes only, so re-running is cheap.

    With no PATH, every known location is read (Claude Code's ~/.claude/projects and
    ~/.config/claude/projects, and the other tools' roots). A PATH may be a directory
    or a single file; the right parser is picked by location and content.

    \b
    logscan backfill
    logscan backfill ~/.claude
    logscan backfill ~/old-laptop/.claude/projects --json
    """
    import time

    from logscan.ingest.discovery import discover
    from logscan.sources.locations import default_roots

    t0 = time.perf_counter()
    roots = [p.expanduser() for p in paths] if paths else default_roots()
    missing = [r for r in roots if not r.exists()]
    if paths and missing:
        raise click.BadParameter(f"{', '.join(map(str, missing))} does not exist.", param_hint="PATH")
    db = db_path(ctx)
    # While the daemon runs it holds the only read-write connection: it does the reading.
    summary = _backfill_via_daemon(db, roots)
    if summary is None:
        from logscan.ingest import unchanged

        found = discover(roots)
        # Nothing changed since the last backfill (see logscan.ingest.unchanged): answered from
        # the walk alone, without opening the store or importing the parsers.
        counts = unchanged.check(db, roots, found)
        if counts is not None:
            from logscan.ingest.plan import Summary

            summary = Summary(**counts, seconds=time.perf_counter() - t0)
        else:
            summary = _backfill_here(db, roots, found, quiet, as_json)
    if as_json:
        import orjson

        out = {
            "db": str(db),
            "roots": [str(r) for r in roots],
            "files_read": summary.files_read,
            "files_unchanged": summary.files_unchanged,
            "files_unrecognized": summary.files_unrecognized,
            "files_missing": summary.files_missing,
            "files_reset": summary.files_reset,
            "bytes_read": summary.bytes_read,
            "usage_records": summary.usage_records,
            "new_events": summary.new_events,
            "updated_events": summary.updated_events,
            "duplicates_dropped": summary.duplicates_dropped,
            "new_problems": summary.new_problems,
            "unreadable_folders": getattr(summary, "unreadable_folders", 0),
            "unpriced": summary.unpriced,
            "seconds": round(summary.seconds, 3),
            "by_tool": dict(summary.by_tool),  # events new or updated, per tool (new_events + updated_events)
        }
        click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    else:
        found = [str(r) for r in roots if r.exists()]
        click.echo(f"roots: {', '.join(found) if found else 'none found'}" + (f" (not found: {', '.join(map(str, missing))})" if missing else ""))
        click.echo(
            f"files: {summary.files_read} read, {summary.files_unchanged} unchanged, "
            f"{summary.files_unrecognized} unrecognized, {summary.files_missing} missing"
            + (f", {summary.files_reset} re-read from the start" if summary.files_reset else "")
        )
        click.echo(
            f"events: {summary.new_events:,} new, {summary.updated_events:,} updated "
            f"({summary.usage_records:,} usage records, {summary.duplicates_dropped:,} duplicates dropped)"
        )
        if summary.by_tool:
            click.echo("events by tool (new or updated): " + ", ".join(f"{t} {n:,}" for t, n in sorted(summary.by_tool.items())))
        click.echo(f"problems: {summary.new_problems} new" + (" (see 'logscan problems')" if summary.new_problems else ""))
        if getattr(summary, "unreadable_folders", 0):
            click.echo(f"unreadable: {summary.unreadable_folders} folder(s) could not be listed, so their logs are NOT counted "
                       "(see 'logscan problems --path' and fix with chmod u+rx)")
        if summary.unpriced:
            n = sum(summary.unpriced.values())
            models = ", ".join(f"{m} x{c}" for m, c in list(summary.unpriced.items())[:8])
            click.echo(f"unpriced: {n:,} events (models: {models}); their cost is NULL, totals are lower bounds")
        click.echo(f"read {summary.bytes_read / 1e6:,.1f} MB in {summary.seconds:.2f} s ({summary.mb_per_s:,.0f} MB/s) into {db}")
    if strict and summary.new_problems:
        ctx.exit(ExitCode.INPUT_PROBLEMS)


def _backfill_here(db: Path, roots: list[Path], found: Any, quiet: bool, as_json: bool) -> Any:
    """The backfill in this process (no daemon runs): plan, read, commit; then the no-change
    sidecar for the next run."""
    import socket

    from logscan.ingest import unchanged
    from logscan.ingest.ingestor import Ingestor, default_workers, likely_parallel
    from logscan.store.store import Store

    workers, host = default_workers(), socket.gethostname()
    if likely_parallel(found, db, workers):
        from logscan.ingest.parallel import prestart

        # The workers load while the store opens; with no store yet nothing has been read,
        # so they are given the files at once and parse while the store is created.
        first = not db.exists() and not Path(f"{db}.wal").exists()
        prestart(workers, host, Ingestor, [f for _, files in found for f in files] if first else None)
    ing = None
    try:
        with Store.open(db) as store:
            ing = Ingestor(store, workers=workers, host=host)  # the same host: the prestarted pool is used
            todo, new_bytes = ing.plan(roots, found)
            show = not quiet and not as_json and sys.stderr.isatty()
            summary = _run_planned(ing, todo, new_bytes, show)
            if summary.new_events or summary.updated_events:
                # what the daemon runs after its commits: statusline cache, budgets, retention
                from logscan.ingest.hooks import after_flush

                after_flush(store)
    except KeyboardInterrupt:
        _stopped(ing)
    unchanged.save(db, roots, found, ing.states, summary)
    return summary


def _run_planned(ing: Any, todo: Any, new_bytes: int, show: bool) -> Any:
    """Run the planned reads, with a progress bar on a terminal. Ctrl-C arrives as
    KeyboardInterrupt, or as DuckDB's interrupt error when it lands inside a commit."""
    from logscan.store.readonly import duckdb_module

    try:
        if show:
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

            with Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task("backfill", total=new_bytes or None)
                ing.progress = lambda n: bar.advance(task, n)
                return ing.run_planned(todo)
        return ing.run_planned(todo)
    except (duckdb_module().InterruptException, RuntimeError) as e:
        if isinstance(e, RuntimeError) and "interrupt" not in str(e).lower():
            raise
        raise KeyboardInterrupt from e


def _stopped(ing: Any) -> None:
    """Ctrl-C: say what was kept (every committed batch is whole) and exit 130, like a shell."""
    if ing is None:
        say("stopped before anything was read; run 'logscan backfill' again")
        sys.exit(130)
    s = ing.summary
    say(f"stopped: {s.new_events:,} new events from {s.files_read:,} files were committed before the interrupt; "
        "run 'logscan backfill' again to continue (nothing committed is read twice)")
    sys.exit(130)


def _backfill_via_daemon(db: Path, roots: list[Path]) -> Any:
    """The daemon's summary of a backfill it ran, or None when no daemon serves this database."""
    from types import SimpleNamespace

    from logscan.service.client import NoDaemon, daemon_write

    try:
        res = daemon_write(db, "backfill", {"paths": [str(r.absolute()) for r in roots if r.exists()]})
    except NoDaemon:
        return None
    say("(ingested by the running logscan daemon)")
    return SimpleNamespace(**res)


@click.command()
@click.argument("sql")
@click.option("--allow-files", is_flag=True, help="Let this query read your own files (read_csv, 'x.parquet', ...). "
              "Opens the store itself, read-only, never through the daemon (stop the daemon first if it runs).")
@format_option
@click.pass_context
def query(ctx: click.Context, sql: str, allow_files: bool, fmt: str, no_headers: bool) -> None:
    """Run one read-only SQL statement against the store ('-' reads the SQL from stdin).

    Queries cannot change the store and cannot read or write other files (see README, "Queries").

    \b
    logscan query "SELECT tool, model, sum(total_tokens), sum(cost_usd) FROM events GROUP BY ALL"
    logscan query "SELECT * FROM sessions ORDER BY cost_usd DESC LIMIT 10" -f json
    echo "SELECT count(*) FROM events" | logscan query -
    logscan query --allow-files "SELECT * FROM events JOIN 'projects.csv' USING (project)"
    """
    from logscan.service.client import run_query

    if sql == "-":
        sql = sys.stdin.read()
    if allow_files:
        from logscan.store.store import Store

        with Store.open(db_path(ctx), read_only=True, allow_files=True) as store:
            columns, rows = store.query(sql)
    else:
        columns, rows = run_query(db_path(ctx), sql)
    emit(columns, rows, fmt, no_headers, exact=True)


@click.command()
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many rows (0: all).")
@click.option("--path", "path_like", help="Only files whose path contains this text.")
@format_option
@click.pass_context
def problems(ctx: click.Context, limit: int, path_like: str | None, fmt: str, no_headers: bool) -> None:
    """Lines that could not be used: file, byte offset, kind and reason.

    The offending bytes are never stored (they may hold prompts); open the file at the offset
    to look, e.g. tail -c +$((OFFSET+1)) FILE | head -1.
    """
    from logscan.service.client import run_query

    sql = 'SELECT path, "offset", kind, reason, length, tool, recorded_at FROM problems'
    params: list[object] = []
    if path_like:
        sql += " WHERE contains(path, ?)"
        params.append(path_like)
    sql += ' ORDER BY recorded_at DESC, path, "offset"'
    if limit:
        sql += f" LIMIT {int(limit)}"
    columns, rows = run_query(db_path(ctx), sql, params)
    emit(columns, rows, fmt, no_headers)
    if fmt == "table" and not rows:
        say("No problems recorded.")


@click.command()
@format_option
@click.pass_context
def schema(ctx: click.Context, fmt: str, no_headers: bool) -> None:
    """Tables, views and columns you can query."""
    from logscan.service.client import run_query

    columns, rows = run_query(
        db_path(ctx),
        """SELECT c.table_name AS "table", t.table_type AS kind, c.column_name AS "column", c.data_type AS type
        FROM information_schema.columns c JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.table_schema = 'main' AND NOT starts_with(c.table_name, '_')
        ORDER BY c.table_name, c.ordinal_position""",
    )
    emit(columns, rows, fmt, no_headers)


@click.command("parsers")
@format_option
def parsers_cmd(fmt: str, no_headers: bool) -> None:
    """The parsers logscan has, what they read and where they look by default."""
    from logscan.sources.parsers import PARSERS

    rows = [
        (p.name, p.version, p.reader, " ".join(p.patterns), " ".join(str(r) for r in p.default_roots()))
        for p in PARSERS.values()
    ]
    emit(["name", "version", "reader", "patterns", "default_roots"], rows, fmt, no_headers)


@click.command()
@click.option("--all", "everything", is_flag=True, help="Reprice every event, not only unpriced ones and those priced under older prices.")
@click.pass_context
def reprice(ctx: click.Context, everything: bool) -> None:
    """Recompute costs from the stored tokens with the current prices.

    Run it after adding a model to the price override file (see 'logscan doctor') or after
    upgrading logscan; the source logs are not needed. Goes through the daemon when it runs.

    \b
    logscan reprice
    logscan reprice --all
    """
    from logscan.service.client import run_write

    res = run_write(db_path(ctx), "logscan.store.reprice:reprice_store", {"everything": everything})
    click.echo(f"repriced {res['repriced']:,} events: {res['priced']:,} priced, {res['unpriced']:,} still without a price")
