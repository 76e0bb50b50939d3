"""Helpers for the daemon tests: synthetic Claude Code lines with known token counts, and a real
``python -m logscan daemon`` process with every wait bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL = "claude-sonnet-4-5-20250929"


def line(key: str, i: int, *, ts: str = "2026-01-05T10:00:00.000Z") -> bytes:
    """One billed assistant line: message id msg_<key>_<i>, input i, output 2i+1, no cache."""
    return (
        json.dumps(
            {
                "type": "assistant",
                "sessionId": f"s-{key}",
                "parentUuid": None,
                "uuid": f"u-{key}-{i}",
                "timestamp": ts,
                "requestId": f"req_{key}_{i}",
                "message": {
                    "id": f"msg_{key}_{i}",
                    "model": MODEL,
                    "usage": {"input_tokens": i, "output_tokens": 2 * i + 1, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
                    "stop_reason": "end_turn",
                },
            }
        ).encode()
        + b"\n"
    )


def write_lines(path: Path, key: str, ids: range, mode: str = "ab") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as f:
        f.write(b"".join(line(key, i) for i in ids))


def truth(ids: range, files: int = 1) -> tuple[int, int, int]:
    """(events, sum input, sum output) for ``files`` files each holding ``ids``: input = i, output = 2i + 1."""
    n = len(ids)
    s = sum(ids)  # arithmetic series, e.g. range(1000) -> 999*1000/2
    return files * n, files * s, files * (2 * s + n)


def wait_for(cond: Callable[[], Any], timeout: float, what: str, every: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class DaemonProc:
    """A real daemon process; stderr goes to a file that failures print."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = tmp / f"daemon-{time.monotonic_ns()}.log"
        self._f = open(self.log, "wb")  # noqa: SIM115
        self.p = subprocess.Popen(
            [sys.executable, "-m", "logscan", "daemon", "--debounce", "0.05", *args],
            stdout=subprocess.DEVNULL,
            stderr=self._f,
            env=env or dict(os.environ),
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        from logscan.service.client import NoDaemon, daemon_status

        def ready() -> bool:
            if self.p.poll() is not None:
                raise AssertionError(f"daemon exited with {self.p.returncode}:\n{self.stderr()}")
            try:
                return bool(daemon_status()["initial_scan_done"])
            except NoDaemon:
                return False

        wait_for(ready, timeout, "the daemon's initial scan", every=0.05)

    def stderr(self) -> str:
        if not self._f.closed:
            self._f.flush()
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)
                raise AssertionError(f"daemon did not stop on SIGTERM:\n{self.stderr()}") from None
        self._f.close()
        return self.p.returncode

    def kill9(self) -> None:
        self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=10)
        self._f.close()
