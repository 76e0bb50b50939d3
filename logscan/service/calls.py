"""The writes the daemon's single writer runs for other processes (the socket's ``call`` op), as
``"module:function"`` names of functions taking ``(store, **args)``. Nothing outside this list can
be run through the socket; the client checks it too before running a write locally, so a write
behaves the same with and without a daemon."""

from __future__ import annotations

from typing import Any

from logscan.errors import LogscanError

# The writes the socket's "call" op may run, as "module:function" taking (store, **args).
CALLS: set[str] = {
    "logscan.service.calls:mark_files_missing",
    "logscan.quota.storage:store_snapshots",  # logscan usage / ingest: quota readings
    "logscan.store.export:export_events",  # logscan export (reads through the writer's connection)
    "logscan.store.export:import_file",  # logscan import
    "logscan.store.export:prune_events",  # logscan prune / retention
    "logscan.store.reprice:reprice_store",  # logscan reprice
    "logscan.sync.run:sync_store",  # logscan sync (a push and a pull with a PostgreSQL hub)
    "logscan.store.backup:make_backup_call",  # logscan backup --now
    "logscan.ingest.cursor_import:import_cursor",  # logscan import cursor FILE
    "logscan.store.apistore:save_pull",  # logscan api pull (and the daemon's pulls): provider usage and costs
}


def check_call_allowed(target: str) -> None:
    if target not in CALLS:
        raise LogscanError(
            f"{target!r} is not a write the daemon runs. Allowed: {', '.join(sorted(CALLS))}. "
            "Register it in logscan.service.calls.CALLS."
        )


def mark_files_missing(store: Any, paths: list[str]) -> int:
    """A registered write: record that files vanished (their events stay)."""
    store.mark_missing(paths)
    return len(paths)
