"""Extension points that other modules register into by name, so the daemon need not know them.

``AFTER_FLUSH`` lists "module:function" callables run by the daemon after every committed batch,
each as ``fn(store)``; one that raises is logged and never stops ingestion. ``PERIODIC`` lists the
same kind of callables run by the daemon's writer thread on its health tick (every few seconds,
whether or not anything was ingested); each decides itself whether its time has come.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

log = logging.getLogger("logscan.ingest.hooks")

AFTER_FLUSH: list[str] = [
    "logscan.reports.budget:check",  # budget alerts, once per period
    "logscan.store.export:apply_retention",  # the retention setting, at most hourly
    "logscan.quota.cache:write_cache",  # today's cost and latest bars for the statusline
    "logscan.store.backup:maybe_backup",  # a checked copy of the store, at most daily (last N kept)
]


def after_flush(store: Any) -> None:
    for ref in AFTER_FLUSH:
        module, attr = ref.split(":")
        try:
            getattr(importlib.import_module(module), attr)(store)
        except Exception:
            log.exception("after-flush hook %s failed", ref)


PERIODIC: list[str] = [
    "logscan.sync.run:periodic_sync",  # 'logscan sync' every N minutes when a hub URL is configured
    "logscan.providers.pull:periodic_pull",  # the providers' billing APIs every 15 minutes when a key is available
]


def run_periodic(store: Any) -> None:
    for ref in PERIODIC:
        module, attr = ref.split(":")
        try:
            getattr(importlib.import_module(module), attr)(store)
        except Exception:
            log.exception("periodic hook %s failed", ref)
