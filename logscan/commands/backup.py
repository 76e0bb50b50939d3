"""``logscan backup`` and ``logscan restore``: the way back from a damaged store."""

from __future__ import annotations

import click

from logscan.commands.common import db_path, say


@click.command()
@click.option("--now", "now", is_flag=True, help="Make a backup now (through the daemon when it runs).")
@click.option("--keep", type=click.IntRange(0, 1000), help="Keep this many backups (0: no automatic backups) [default: 7].")
@click.option("--every-hours", type=click.FloatRange(0.1, 24 * 365), help="Make one at most this often [default: 24].")
@click.pass_context
def backup(ctx: click.Context, now: bool, keep: int | None, every_hours: float | None) -> None:
    """List the store's backups, change how many are kept, or make one now.

    Backups are made automatically after commits (by the daemon and by backfill), at most every
    24 hours, into backups/ beside the store; the newest 7 are kept. Each is a checkpointed,
    checked copy of the whole store.

    \b
    logscan backup                   # where they are, how many, the newest
    logscan backup --now
    logscan backup --keep 14 --every-hours 12
    """
    from logscan.reports.budget import load_settings, save_settings
    from logscan.service.client import run_write
    from logscan.store.backup import backup_dir, keep_count, list_backups

    db = db_path(ctx)
    if keep is not None or every_hours is not None:
        data = load_settings()
        if keep is not None:
            data["backup_keep"] = keep
        if every_hours is not None:
            data["backup_every_hours"] = every_hours
        save_settings(data)
    if now:
        path = run_write(db, "logscan.store.backup:make_backup_call")
        say(f"backup made: {path}")
    found = list_backups(db)
    click.echo(f"backups: {len(found)} in {backup_dir(db)} (keeping {keep_count()})")
    for p in found:
        click.echo(f"  {p.name}  {p.stat().st_size / 1e6:.1f} MB")


@click.command()
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True), help="Restore this backup file instead of the newest good one.")
@click.option("--no-reread", is_flag=True, help="Do not re-read the logs on disk afterwards.")
@click.pass_context
def restore(ctx: click.Context, source: str | None, no_reread: bool) -> None:
    """Replace a damaged store with its newest good backup, then re-read the logs still on disk.

    The damaged file is kept beside it as *.damaged-<time>. Event ids are stable, so the re-read
    adds exactly the calls made after the backup that the logs still hold. Stop the daemon first.
    """
    from pathlib import Path

    from logscan.store.backup import restore as do_restore

    db = db_path(ctx)
    res = do_restore(db, Path(source) if source else None)
    for s in res["skipped"]:
        say(f"skipped (unreadable): {s}")
    say(f"restored {res['events']:,} events from {res['restored_from']}")
    for m in res["moved_aside"]:
        say(f"kept the damaged file as {m}")
    if no_reread:
        return
    from logscan.commands.core import backfill

    say("re-reading the logs still on disk ...")
    ctx.invoke(backfill)
