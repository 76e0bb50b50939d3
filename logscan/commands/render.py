"""The daemon's side of the thin client (``logscan.service.thin``): a served report command is
run here, in the daemon, by the very click command the client would have run, with the client's
terminal and time zone (``logscan.context``) and the daemon's read-only query connection; what
it prints is captured per thread and sent back.

``sys.stdout`` and ``sys.stderr`` are replaced once by routers that write to the capture of the
thread rendering, and to the real stream for every other thread (the daemon's own log keeps its
stream). Renders run concurrently; nothing of one leaks into another or into the daemon's
environment (``os.environ`` is never changed)."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from typing import Any

from logscan.service.thin import MAX_ARG, MAX_ARGS, SERVED, StandIn

_LOCAL = threading.local()
_INSTALL = threading.Lock()


class _Capture(io.StringIO):
    """What one render printed to one stream; a terminal or not, as the client's stdout is."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"


class _Router(StandIn):
    """Stands in for ``sys.stdout``/``sys.stderr``: the rendering thread's capture, else the real stream."""

    def __init__(self, real: Any, name: str) -> None:
        super().__init__(real)
        self._name = name

    def target(self) -> Any:
        return getattr(_LOCAL, self._name, None) or self.real


def _install() -> None:
    with _INSTALL:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr, "stderr")


def _bad(message: str) -> dict[str, Any]:
    return {"ok": False, "error": "bad-request", "message": message}


def render_for_client(req: dict[str, Any], db: str, query: Callable[[str, Any, str], tuple[list[str], list[tuple[Any, ...]]]]) -> dict[str, Any]:
    """Run the served report ``req["argv"]`` against ``db`` as the client would have, and return
    its output and exit code. ``query(sql, params, tz)`` runs read-only SQL on the daemon's
    query connection."""
    argv = req.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or len(argv) > MAX_ARGS or any(len(a) > MAX_ARG for a in argv):
        return _bad("argv: a list of at most 256 strings is expected")
    if len(argv) < 2 or argv[0] != "report" or argv[1] not in SERVED:
        return _bad(f"only these reports are rendered by the daemon: {', '.join(sorted(SERVED))}")
    width, tty, color, tz = req.get("width"), req.get("isatty"), req.get("color"), req.get("tz")
    if width is not None and (not isinstance(width, int) or isinstance(width, bool) or not 0 < width < 100_000):
        return _bad("width: a positive integer or null")
    if not isinstance(tty, bool) or not isinstance(color, bool) or not isinstance(tz, str) or len(tz) > 200:
        return _bad("isatty and color: booleans; tz: a string")
    from logscan.context import CLIENT_TZ, LOCAL_QUERY, TERMINAL, Terminal

    _install()
    out, err = _Capture(tty), _Capture(False)
    _LOCAL.stdout, _LOCAL.stderr = out, err
    tokens = (TERMINAL.set(Terminal(width, tty, color)), CLIENT_TZ.set(tz), LOCAL_QUERY.set(lambda sql, params: query(sql, params, tz)))
    code: int = 0
    try:
        from logscan.cli import cli

        try:
            cli.main(args=["--db", db, *argv], prog_name="logscan", standalone_mode=True)
        except SystemExit as e:
            if isinstance(e.code, str):
                err.write(e.code + "\n")
                code = 1
            else:
                code = 0 if e.code is None else int(e.code)
    except Exception as e:  # noqa: BLE001  (the client then runs the command itself)
        return {"ok": False, "error": "internal", "message": f"{type(e).__name__}: {e}"}
    finally:
        TERMINAL.reset(tokens[0])
        CLIENT_TZ.reset(tokens[1])
        LOCAL_QUERY.reset(tokens[2])
        _LOCAL.stdout = _LOCAL.stderr = None
    return {"ok": True, "stdout": out.getvalue(), "stderr": err.getvalue(), "code": code}
