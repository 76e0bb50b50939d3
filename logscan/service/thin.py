"""The thin client: ``logscan report daily|weekly|...`` answered by the running daemon, which
renders the report itself (it has DuckDB, the store and every module loaded) and sends back the
text, so this process imports neither click, nor DuckDB, nor the report code. ``entry.main``
calls ``answer`` before anything heavy is imported.

Only read-only report commands are sent (``SERVED``; never ``report html``, which writes a file),
and the daemon checks the same list. The request carries what the output depends on in this
process: the database (as ``--db`` or ``$LOGSCAN_DB`` name it, resolved), the command's
arguments, the terminal (the width to fit, whether stdout is a terminal, colour: as
``reports.output`` would decide here) and ``$TZ``. Whenever the daemon cannot answer (none
runs, another database, an insecure socket, an older daemon, any error), or this process's
stdout cannot encode the answer, ``render`` returns None and the command runs here as usual:
the answer is the same either way. Without a daemon, ``answer`` prints the saved rendering of
the same question of the same untouched store (``logscan.reports.saved``) or arranges for this
run's output to be saved.

    -> {"op": "render", "db": "/abs/db", "argv": ["report", "daily", ...], "width": 80 | null,
        "isatty": true, "color": true, "tz": "Europe/Paris" | ""}
    <- {"ok": true, "stdout": "...", "stderr": "...", "code": 0}
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from logscan.context import Terminal

SERVED = frozenset({"daily", "weekly", "monthly", "session", "project", "model", "tool", "host", "blocks"})
MAX_ARGS = 256
MAX_ARG = 4096


def command(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """(the --db value or None, the command's own arguments) when ``argv`` is a served report,
    else None. Only ``--db`` may come before the command; help is left to click."""
    db: str | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        a = argv[i]
        if a == "--db" and i + 1 < len(argv):
            db, i = argv[i + 1], i + 2
        elif a.startswith("--db="):
            db, i = a[len("--db="):], i + 1
        else:
            return None
    rest = argv[i:]
    if len(rest) < 2 or rest[0] != "report" or rest[1] not in SERVED or len(rest) > MAX_ARGS:
        return None
    if any(a in ("--help", "-h") or len(a) > MAX_ARG for a in rest):
        return None
    return db, rest


def _store(db: str | None) -> str | None:
    """The store the command would read, as an absolute path (what the daemon compares)."""
    from pathlib import Path

    if db is None:
        db = os.environ.get("LOGSCAN_DB") or None
    if db is None:
        from logscan.paths import default_db_path

        path = default_db_path()
    else:
        path = Path(db)
    try:
        return str(path.expanduser().resolve())
    except (OSError, RuntimeError, ValueError):
        return None


def _fits(stream: Any, text: str) -> bool:
    """Whether ``stream`` can take ``text`` (the daemon renders for UTF-8; a client whose stdout
    is, say, ASCII fails partway through the ordinary path, with one line on stderr)."""
    if text.isascii():
        return True
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8", getattr(stream, "errors", None) or "strict")
    except (UnicodeError, LookupError):
        return False
    return True


def _write(out: str, err: str) -> None:
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:  # logscan report daily | head: nothing more to say
        pass
    if err:
        sys.stderr.write(err)


class _Ask(NamedTuple):
    """One served report, as this process would run it: the store (absolute), the command's
    arguments and this stdout's terminal (width, isatty, color)."""

    db: str
    argv: list[str]
    terminal: Terminal


def _ask(argv: list[str]) -> _Ask | None:
    found = command(argv)
    if found is None or os.environ.get("LOGSCAN_DEBUG"):
        return None
    from logscan.context import local_terminal

    db = _store(found[0])
    return None if db is None else _Ask(db, found[1], local_terminal(sys.stdout))


def answer(argv: list[str]) -> tuple[int | None, Callable[[object], None] | None]:
    """What ``entry.main`` asks before loading click: (the exit code, None) when the running
    daemon answered or a saved rendering was printed; else (None, done), ``done`` as ``_replayed``
    gives it (None when this run's output may not be saved)."""
    ask = _ask(argv)
    if ask is None:
        return None, None
    code = _rendered(ask)
    return (code, None) if code is not None else _replayed(ask)


def render(argv: list[str]) -> int | None:
    """Print what the daemon rendered for ``argv`` and return the exit code, or None when this
    process must run the command itself."""
    ask = _ask(argv)
    return None if ask is None else _rendered(ask)


def _rendered(ask: _Ask) -> int | None:
    from logscan.service.client import NoDaemon, request

    width, tty, color = ask.terminal
    msg: dict[str, Any] = {"op": "render", "db": ask.db, "argv": ask.argv, "width": width, "isatty": tty, "color": color,
                           "tz": os.environ.get("TZ", "")}
    try:
        reply = request(msg)
    except NoDaemon:
        return None
    except Exception:  # noqa: BLE001  (a daemon that closed without answering, a bad reply: run it here)
        return None
    out, err, code = reply.get("stdout"), reply.get("stderr"), reply.get("code")
    if not reply.get("ok") or not isinstance(out, str) or not isinstance(err, str) or not isinstance(code, int):
        return None
    if not (_fits(sys.stdout, out) and _fits(sys.stderr, err)):
        return None  # run here, to fail (or replace) as this stream does, not with a traceback
    _write(out, err)
    return code


class StandIn(io.TextIOBase):
    """A text stream standing in for ``sys.stdout`` or ``sys.stderr`` that hands everything to
    ``target()`` (the stream it replaced, unless a subclass says otherwise): what click, rich and
    the reports ask of a stream. Used to keep a report's output here (``_Tee``) and, in the
    daemon, to route each render thread's output (``commands.render``)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def target(self) -> Any:
        return self.real

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        return int(self.target().write(s) or 0)

    def flush(self) -> None:
        self.target().flush()

    def isatty(self) -> bool:
        return bool(self.target().isatty())

    def fileno(self) -> int:
        return int(self.target().fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.target(), "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.target(), "errors", "strict")

    @property
    def buffer(self) -> Any:
        return self.target().buffer


class _Tee(StandIn):
    """Stands in for sys.stdout or sys.stderr while a report runs here: writes go through, and
    are kept for ``reports.saved``. Bytes written past it (to ``.buffer``) would not be kept: a
    run that reaches for the buffer is not saved."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.parts: list[str] = []
        self.tainted = False

    def write(self, s: str) -> int:
        n = super().write(s)
        self.parts.append(s)
        return n

    @property
    def buffer(self) -> Any:
        self.tainted = True
        return self.real.buffer


def _replayed(ask: _Ask) -> tuple[int | None, Callable[[object], None] | None]:
    """No daemon answered. (0, None) after printing the saved rendering of this very question
    (``reports.saved``); else (None, done), where ``done(exit_code)``, called when the command
    has run here, saves what it printed (``done`` is None when it may not be saved)."""
    from pathlib import Path

    from logscan.reports import saved
    from logscan.store.settled import store_identity

    path = Path(ask.db)
    k = saved.key(path, ask.argv, ask.terminal)
    if k is None:
        return None, None
    hit = saved.load(path, k[0])
    if hit is not None and _fits(sys.stdout, hit[0]) and _fits(sys.stderr, hit[1]):
        _write(*hit)
        return 0, None
    if str(getattr(sys.stdout, "encoding", "")).lower().replace("-", "") != "utf8":
        return None, None  # click would write through its own wrapper, past the tee
    out, err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]

    def done(code: object) -> None:
        sys.stdout, sys.stderr = out.real, err.real
        if code in (0, None) and not out.tainted and not err.tainted and store_identity(path) == k[1]:
            saved.save(path, k[0], k[1], "".join(out.parts), "".join(err.parts))

    return None, done
