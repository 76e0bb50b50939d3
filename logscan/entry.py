"""The ``logscan`` console script. ``logscan statusline`` runs on every Claude Code redraw and
must start in well under 50 ms, so it is dispatched here before click (or anything heavier) is
imported; every other command goes to the click group."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["statusline"]:
        from logscan.quota.statusline import main as statusline

        sys.exit(statusline())
    from logscan.cli import cli

    cli(prog_name="logscan")
