"""daemon, service install|uninstall|status, status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from logscan.commands.common import db_path, say


@click.command()
@click.argument("roots", nargs=-1, type=click.Path(path_type=Path))
@click.option("--poll", is_flag=True, help="Poll the file system instead of native events (network or odd file systems).")
@click.option("--poll-interval", type=float, default=10.0, show_default=True, help="Seconds between polls with --poll.")
@click.option("--debounce", type=float, default=0.2, show_default=True, help="Seconds to let a burst of writes settle.")
@click.option("--reconcile-interval", type=float, default=120.0, show_default=True, help="Seconds between full rescans that catch missed events.")
@click.option("--query-timeout", type=float, default=300.0, show_default=True, help="Interrupt a socket query after this many seconds.")
@click.option("--socket", "sock", type=click.Path(dir_okay=False, path_type=Path), envvar="LOGSCAN_SOCKET", show_envvar=True,
              help="Unix socket for queries [default: $XDG_RUNTIME_DIR/logscan/sock].")
@click.option("--batch-events", type=int, default=20_000, show_default=True, hidden=True)
@click.option("-v", "--verbose", is_flag=True, help="Log every reconcile, not only changes.")
@click.pass_context
def daemon(
    ctx: click.Context, roots: tuple[Path, ...], poll: bool, poll_interval: float, debounce: float, reconcile_interval: float,
    query_timeout: float, sock: Path | None, batch_events: int, verbose: bool,
) -> None:
    """Watch every source and ingest new lines as they are written; serve queries meanwhile.

    Runs in the foreground and logs to stderr (one key=value line per event). With no ROOT it
    watches every parser's default locations, including those created later. Stop it with
    Ctrl-C or SIGTERM: the last batch is committed first. Usually run by the service manager:
    see 'logscan service install'.

    \b
    logscan daemon
    logscan daemon --poll ~/nfs/.claude/projects
    """
    import logging

    from logscan.commands.render import render_for_client
    from logscan.service.daemon import Daemon
    from logscan.service.logs import setup_logging

    from logscan.errors import ExitCode
    from logscan.store.damage import CorruptStore

    setup_logging(logging.DEBUG if verbose else logging.INFO)
    d = Daemon(
        db_path(ctx), list(roots) if roots else None, sock=sock, poll=poll, poll_interval=poll_interval, debounce=debounce,
        reconcile_interval=reconcile_interval, query_timeout=query_timeout, batch_events=batch_events,
        render=render_for_client,
    )
    try:
        code = d.run()
    except CorruptStore as e:
        say(f"Error: {e}")  # exit 78: the unit's RestartPreventExitStatus stops a restart loop
        ctx.exit(ExitCode.DAMAGED_STORE)
    ctx.exit(code)


@click.group()
def service() -> None:
    """Run the daemon as a user service (systemd on Linux, launchd on macOS).

    \b
    logscan service install      # write the unit, enable and start it
    logscan service status
    logscan service uninstall
    """


@service.command("install")
@click.option("--no-start", is_flag=True, help="Only write the unit file; print the commands that would start it.")
@click.pass_context
def service_install(ctx: click.Context, no_start: bool) -> None:
    """Write the user unit (or launchd agent) that runs 'logscan daemon', then enable and start it."""
    from logscan.service.units import install

    db = ctx.find_root().params.get("db")
    for line in install(db=Path(db).expanduser().absolute() if db else None, start=not no_start):
        click.echo(line)


@service.command("uninstall")
def service_uninstall() -> None:
    """Stop the service and remove its unit file. The database is kept."""
    from logscan.service.units import uninstall

    for line in uninstall():
        click.echo(line)


@service.command("status")
@click.pass_context
def service_status(ctx: click.Context) -> None:
    """Whether the unit is installed and running, what environment it carries, whether its
    daemon answers for this database, and where its logs are."""
    from logscan.service.units import status

    for line in status(db_path(ctx)):
        click.echo(line)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Is the daemon alive, how far behind is it, and what is in the database.

    \b
    logscan status
    logscan status --json | jq .lag_s
    """
    from logscan.service.client import NoDaemon, daemon_status
    from logscan.paths import socket_path

    db = db_path(ctx)
    report: dict[str, Any]
    try:
        report = {"daemon": "running", **daemon_status(db)}
    except NoDaemon:
        report = {"daemon": "not running", "socket": str(socket_path()), "db": str(db), **_db_facts(db)}
    report.update(_sync_facts(db))
    if as_json:
        import orjson

        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    from logscan.commands.common import fill

    for key, value in _lines(report):
        click.echo(fill(str(value), f"{key + ':':<15} ", " " * 16))  # wrapped to the terminal, never cut
    if report["daemon"] != "running":
        say(fill("Start it with 'logscan daemon' (foreground) or 'logscan service install' (as a user service)."))


def _db_facts(db: Path) -> dict[str, Any]:
    from logscan.errors import LogscanError
    from logscan.service.health import COUNTS_SQL, counts_of, counts_params
    from logscan.store.store import Store

    try:
        with Store.open(db, read_only=True) as store:
            _, rows = store.query(
                f"""SELECT {COUNTS_SQL}, (SELECT count(*) FROM files WHERE missing_since IS NULL),
                          (SELECT count(*) FROM files WHERE missing_since IS NOT NULL)""",
                counts_params(),
                guard=False,
            )
    except LogscanError as e:
        return {"db_error": str(e)}
    files, missing = rows[0][5:]
    return {**counts_of(rows[0]), "files_watched": files, "files_missing": missing}


def _sync_facts(db: Path) -> dict[str, Any]:
    """The last sync with a hub (``sync_state``), through the daemon when it runs; {} before any."""
    from logscan.errors import LogscanError
    from logscan.service.client import run_query

    try:
        cols, rows = run_query(db, "SELECT hub_url, host, pulled_seq, last_attempt_at, last_ok_at, last_error, "
                                   "last_pushed, last_pulled FROM sync_state")
    except LogscanError:
        return {}
    if not rows:
        return {}
    d = dict(zip(cols, rows[0]))
    iso = {k: (d[k].isoformat() + "Z" if d[k] else None) for k in ("last_attempt_at", "last_ok_at")}
    return {"sync_hub": d["hub_url"], "sync_host": d["host"], "sync_pulled_seq": d["pulled_seq"],
            "sync_last_attempt_at": iso["last_attempt_at"], "sync_last_ok_at": iso["last_ok_at"],
            "sync_last_error": d["last_error"], "sync_last_pushed": d["last_pushed"], "sync_last_pulled": d["last_pulled"]}


def _sync_line(r: dict[str, Any]) -> str:
    ok = r.get("sync_last_ok_at")
    line = f"{r['sync_hub']} as {r['sync_host']}: " + (f"last completed {ok}" if ok else "never completed")
    if r.get("sync_last_error"):
        line += f"; last attempt {r['sync_last_attempt_at']} FAILED: {r['sync_last_error']}"
    elif ok:
        line += f" ({r['sync_last_pushed'] or 0:,} pushed, {r['sync_last_pulled'] or 0:,} pulled)"
    return line


def _age(seconds: float) -> str:
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + (f"{h}h " if h or d else "") + f"{m}m {s}s"


def _lines(r: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if r["daemon"] == "running":
        out.append(("daemon", f"running (pid {r['pid']}, up {_age(r['uptime_s'])})"))
        out.append(("socket", r["socket"]))
        out.append(("database", r["db"]))
        watcher = f"{r['observer']}, {'alive' if r['observer_alive'] else 'DEAD (restarting)'}"
        if r.get("observer_degraded"):
            watcher += f" (DEGRADED, polling instead: {r.get('observer_degraded_reason') or 'native watching failed'})"
        if r.get("observer_restarts"):
            watcher += f", {r['observer_restarts']} restarts"
        out.append(("watcher", watcher))
        out.append(("roots", ", ".join(r["roots_watched"]) or "none yet"))
        if r["roots_waiting"]:
            out.append(("waiting for", ", ".join(r["roots_waiting"])))
        out.append(("files watched", f"{r['files_watched']:,}" + (f" ({r['files_missing']:,} deleted, events kept)" if r["files_missing"] else "")))
        lag = f"{r['lag_s']:.1f} s ({r['pending_files']} files pending)" if r["pending_files"] or r["lag_s"] else "0 s (up to date)"
        if r.get("commit_failures"):
            lag += f"; COMMITS FAILING: {r['commit_failures']} in a row for {_age(r['failing_for_s'] or 0)} (retrying; nothing is lost)"
        if not r["initial_scan_done"]:
            lag += "; initial scan still running"
        out.append(("lag", lag))
    else:
        out.append(("daemon", f"not running (nothing answers on {r['socket']})"))
        out.append(("database", r["db"]))
        if "db_error" in r:
            out.append(("database error", r["db_error"]))
            return out
        out.append(("files known", f"{r['files_watched']:,}" + (f" ({r['files_missing']:,} deleted, events kept)" if r["files_missing"] else "")))
    future = r.get("events_in_future") or 0
    out.append(("events", f"{r.get('events_total', 0):,} total, {r.get('events_last_hour', 0):,} in the last hour"
                + (f"; {future:,} dated in the future (a wrong clock? not counted as recent or in budgets; see 'logscan doctor')" if future else "")))
    out.append(("last ingest", r.get("last_ingested_at") or "never"))
    probs = r.get("problems", 0)
    out.append(("problems", f"{probs:,}" + (" (see 'logscan problems')" if probs else "")))
    if r.get("last_error"):
        out.append(("last error", r["last_error"]))
    if r.get("sync_hub"):
        out.append(("sync", _sync_line(r)))
    return out
