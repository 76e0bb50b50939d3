"""The daemon's structured logs: one ``key=value`` line per record (``KeyValueFormatter``), written
to stderr, which systemd's journal and launchd's log file keep. ``event`` is how every daemon part
logs; all of them use the one logger ``logscan.daemon``."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger("logscan.daemon")


class KeyValueFormatter(logging.Formatter):
    """One line per record: ``ts=... level=info logger=... msg="..." key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields.update(getattr(record, "kv", {}))
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info).replace("\n", " | ")
        return " ".join(f"{k}={_kv(v)}" for k, v in fields.items())


def _kv(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return json.dumps(s)
    return s


def setup_logging(level: int = logging.INFO, stream: Any = None) -> None:
    h = logging.StreamHandler(stream or sys.stderr)
    h.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [h]
    root.setLevel(level)
    logging.getLogger("watchdog").setLevel(logging.WARNING)


def event(level: int, msg: str, **kv: Any) -> None:
    log.log(level, msg, extra={"kv": kv})
