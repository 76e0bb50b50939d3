"""What a command run on a client's behalf must take from that client rather than from the
process it runs in: the daemon renders ``logscan report ...`` for a thin client
(``logscan.service.thin``), in a thread of its own, with the client's terminal, time zone and
the daemon's own query connection. Context variables are per thread, so concurrent renders and
the daemon's other threads never see each other's values; outside a render they are unset and
everything reads the process's own environment as usual."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, NamedTuple


class Terminal(NamedTuple):  # (a dataclass would cost the thin client's start-up 6 ms of import)
    """The client's stdout: the width to fit (None: a pipe or file, no limit), whether it is a
    terminal, and whether to use colour (a terminal without NO_COLOR)."""

    width: int | None
    isatty: bool
    color: bool


TERMINAL: ContextVar[Terminal | None] = ContextVar("logscan_terminal", default=None)
# The client's $TZ ("" when it has none: then the machine's zone from /etc/localtime, never the
# daemon's own $TZ); None outside a render.
CLIENT_TZ: ContextVar[str | None] = ContextVar("logscan_client_tz", default=None)
# Where read-only SQL goes during a render: the daemon's query connection (sql, params) -> (columns, rows).
LOCAL_QUERY: ContextVar[Callable[[str, Any], tuple[list[str], list[tuple[Any, ...]]]] | None] = ContextVar("logscan_local_query", default=None)


def local_terminal(out: Any) -> Terminal:
    """This process's ``out``: the width to fit is $COLUMNS when set, else the terminal's when
    ``out`` is one, None for a pipe or a file (nothing wraps there); colour only on a terminal,
    never when NO_COLOR is set (no-color.org)."""
    try:
        tty = bool(out.isatty())
    except (AttributeError, ValueError, OSError):
        tty = False
    env = os.environ.get("COLUMNS", "")
    width: int | None = None
    if env.isdigit() and int(env) > 0:
        width = int(env)
    elif tty:
        import shutil

        width = shutil.get_terminal_size().columns
    return Terminal(width, tty, tty and not os.environ.get("NO_COLOR"))


def terminal(out: Any) -> Terminal:
    """The terminal output is fitted to: the client's during a render, else ``out``'s own."""
    return TERMINAL.get() or local_terminal(out)
