"""sync: one ledger for many machines through a PostgreSQL hub."""

from __future__ import annotations

from typing import Any

import click

from logscan.commands.common import db_path, say


@click.command("sync")
@click.argument("url", required=False, envvar="LOGSCAN_SYNC_URL")
@click.option("--redact-paths", "redact", type=click.Choice(["hash", "basename"]),
              help="Send project and source paths as a short hash or the last path part only.")
@click.option("--save", is_flag=True, help="Save URL (no password) so the daemon syncs every --every minutes.")
@click.option("--every", type=float, help="Minutes between the daemon's syncs (with --save) [default: 15].")
@click.option("--forget", is_flag=True, help="Remove the saved sync settings (the daemon stops syncing).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def sync(ctx: click.Context, url: str | None, redact: str | None, save: bool, every: float | None, forget: bool, as_json: bool) -> None:
    """Push this store's events to a PostgreSQL hub and pull every other machine's.

    URL is like postgresql://user@host:5432/dbname (or LOGSCAN_SYNC_URL, or the saved one). The
    password comes from the URL, PGPASSWORD or ~/.pgpass and is never stored. logscan creates and
    migrates its tables on the hub (schema 'logscan'). A sync that is cut off leaves both sides
    consistent; the next one completes it. Repeating a sync changes nothing.

    \b
    logscan sync postgresql://alice@hub.example.com/logscan
    logscan sync postgresql://alice@hub.example.com/logscan --save --every 10
    logscan sync --redact-paths hash        # the saved hub, paths hashed
    logscan sync --forget
    """
    from logscan.service.client import run_write_via
    from logscan.sync.run import configured_url, save_settings, settings

    if forget:
        save_settings(None)
        say("sync settings removed; the daemon no longer syncs")
        return
    url = url or configured_url()
    if not url:
        raise click.UsageError("No hub given. Pass a URL (postgresql://user@host:5432/dbname), set LOGSCAN_SYNC_URL, "
                               "or save one with --save.")
    redact = redact or settings().get("redact_paths")
    if save:
        entry = save_settings(url, every, redact)
        say(f"saved: the daemon syncs with {entry['url']} every {entry['every_minutes']:g} min")
    res, where = run_write_via(db_path(ctx), "logscan.sync.run:sync_store", {"url": url, "redact": redact})
    if as_json:
        import orjson

        click.echo(orjson.dumps(res, option=orjson.OPT_INDENT_2).decode())
        return
    for line in summary(res, where):
        say(line)


def summary(res: dict[str, Any], where: str) -> list[str]:
    lines = [f"hub {res['hub']} as host {res['host']}" + (" (through the daemon)" if where == "daemon" else "")]
    if res["hub_migrations"]:
        lines.append(f"hub schema created/updated: {', '.join(res['hub_migrations'])}")
    lines.append(f"pushed {res['pushed_events']:,} events ({res['hub_changed']:,} new or newer on the hub)"
                 + (f" and {res['pushed_snapshots']:,} quota readings" if res["pushed_snapshots"] else "")
                 + (f", paths redacted ({res['redact_paths']})" if res["redact_paths"] else ""))
    lines.append(f"pulled {res['pulled_rows']:,} rows from other hosts: {res['new_events']:,} new events, "
                 f"{res['updated_events']:,} updated" + (f", {res['bad_rows']:,} unreadable (see 'logscan problems')" if res["bad_rows"] else ""))
    lines.append(f"done in {res['seconds']:.2f} s")
    return lines
