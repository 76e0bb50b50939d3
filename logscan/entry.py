"""The ``logscan`` console script. ``logscan statusline`` runs on every Claude Code redraw and
must start in well under 50 ms, so it is dispatched here before click (or anything heavier) is
imported; so is a report the running daemon can render (``logscan.service.thin``). Every other
command goes to the click group."""

from __future__ import annotations

import sys


def main() -> None:
    import os

    os.umask(0o077)  # every file logscan creates is private to this user (the store is personal data)
    if sys.argv[1:] == ["statusline"]:
        from logscan.quota.statusline import main as statusline

        sys.exit(statusline())
    done = None
    if "report" in sys.argv[1:4]:
        # A read-only report is rendered by the running daemon when there is one, else printed
        # from the saved rendering of the same question of the same store (service.thin).
        from logscan.service.thin import answer

        code, done = answer(sys.argv[1:])
        if code is not None:
            _exit(code)
    from logscan.cli import cli

    try:
        cli(prog_name="logscan")
    except SystemExit as e:
        if done is not None:
            done(e.code)
        _exit(e.code)
    if done is not None:
        done(0)
    _exit(0)


def _exit(code: object) -> None:
    """Exit like ``sys.exit(code)`` but without tearing the interpreter down: the exit handlers
    run and the output is flushed, then the process ends. Finalizing every module (pydantic,
    DuckDB's bindings) takes 30-100 ms that a command's answer should not wait for; commands
    close their stores themselves."""
    import atexit
    import os

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: the ordinary way
        sys.exit(code)
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code if isinstance(code, int) else 1
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (logscan report | head): nothing to do
            pass
    os._exit(status)
