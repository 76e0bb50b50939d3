"""The command line: a thin translator from arguments to library calls.

Commands live in ``logscan/commands/*.py`` and are imported only when used, so ``logscan
query`` does not pay for pricing, watchdog or pydantic imports. Library errors
(``LogscanError``) become one line on stderr; ``LOGSCAN_DEBUG=1`` shows tracebacks instead.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import click

from logscan import __version__
from logscan.errors import LogscanError

# command name -> "module:attribute" (relative to logscan.commands)
LAZY_COMMANDS: dict[str, str] = {
    "backfill": "core:backfill",
    "query": "core:query",
    "problems": "core:problems",
    "schema": "core:schema",
    "parsers": "core:parsers_cmd",
    "reprice": "core:reprice",
    "prices": "prices:prices",
    "api": "api:api",
    "reconcile": "api:reconcile",
    "compare": "compare:compare",
    "sources": "sources:sources",
    "daemon": "daemon:daemon",
    "service": "daemon:service",
    "status": "daemon:status",
    "report": "report:report_group",
    "budget": "admin:budget",
    "export": "admin:export",
    "import": "admin:import_cmd",
    "prune": "admin:prune",
    "retention": "admin:retention",
    "doctor": "admin:doctor",
    "sync": "sync:sync",
    "backup": "backup:backup",
    "restore": "backup:restore",
    "usage": "quota:usage",
    "ingest": "quota:ingest_cmd",
    "statusline": "quota:statusline",
    "quota": "quota:quota",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            cmd = getattr(importlib.import_module(f"logscan.commands.{module}"), attr)
            assert isinstance(cmd, click.Command)
            return cmd
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LogscanError as e:
            if os.environ.get("LOGSCAN_DEBUG"):
                raise
            raise click.ClickException(str(e)) from e
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as e:
            if os.environ.get("LOGSCAN_DEBUG"):
                raise
            raise click.ClickException(f"{type(e).__name__}: {e}\nRe-run with LOGSCAN_DEBUG=1 for a traceback.") from e


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="logscan")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="LOGSCAN_DB",
    show_envvar=True,
    help="DuckDB file [default: the user data dir, e.g. ~/.local/share/logscan/logscan.duckdb]",
)
@click.pass_context
def cli(ctx: click.Context, db: Path | None) -> None:
    """Exact token usage, cost and quota from the local logs of AI coding assistants.

    With no command: today, this week and this month per tool, the active 5-hour block, quota
    bars and the daemon's state.

    \b
    logscan backfill                 # ingest every known location once
    logscan query "SELECT model, sum(cost_usd) FROM events GROUP BY 1"
    logscan problems                 # lines that could not be used
    """
    from logscan.paths import default_db_path

    os.umask(0o077)  # everything logscan creates (store, WAL, exports, settings, spool) is private
    ctx.obj = {"db": (db or default_db_path()).expanduser()}
    if ctx.invoked_subcommand is None:
        from logscan.commands.summary import show_summary

        show_summary(ctx)
