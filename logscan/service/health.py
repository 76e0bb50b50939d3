"""What ``logscan status`` shows of a running daemon: one dict built from the parts' own counters
(watcher: observer kind and health, roots; writer: commits, errors, lag; the store: event counts
read on a query cursor). It reads, never changes, anything."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any


def _iso(epoch: float | None) -> str | None:
    if not epoch:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


# The store's counts for status, as five select-list items (``COUNTS_SQL``, parameters from
# ``counts_params``, the row read by ``counts_of``). With a daemon they are read on its query
# cursor (``store_counts``); without one 'logscan status' reads them itself, with the file counts.
COUNTS_SQL = """(SELECT count(*) FROM events), (SELECT count(*) FROM events WHERE ts >= ? AND ts <= ?),
    (SELECT count(*) FROM problems), (SELECT max(ingested_at) FROM events), (SELECT count(*) FROM events WHERE ts > ?)"""


def counts_params() -> list[Any]:
    """The last hour, up to now + FUTURE_SKEW; later than that is "in the future" (a wrong clock)."""
    from logscan.models import FUTURE_SKEW
    from logscan.store.store import utcnow

    now = utcnow()
    return [now - timedelta(hours=1), now + FUTURE_SKEW, now + FUTURE_SKEW]


def counts_of(row: Any) -> dict[str, Any]:
    return {"events_total": row[0], "events_last_hour": row[1], "problems": row[2],
            "last_ingested_at": row[3].isoformat() + "Z" if row[3] else None, "events_in_future": row[4]}


def store_counts(cur: Any) -> dict[str, Any]:
    """Event and problem counts from the store, on ``cur`` (closed here); {} without a cursor."""
    if cur is None:
        return {}
    try:
        row = cur.execute(f"SELECT {COUNTS_SQL}", counts_params()).fetchone()
    finally:
        cur.close()
    return counts_of(row)


def daemon_status(*, db: Any, sock_path: Any, started_at: float, watcher: Any, writer: Any, cursor: Any) -> dict[str, Any]:
    """The status reply: identity, watcher, writer and store figures (see the README's "status")."""
    oldest, pending = writer.pending.oldest()
    # The lag is the age of the oldest change not committed yet: a pending change, or the first
    # of the commits that keep failing (their changes were read and are waiting to be re-read).
    now = time.monotonic()
    times = [t for t in (oldest, writer.failing_since) if t is not None]
    since = min(times) if times else None
    states = list(writer.ing.states.values()) if writer is not None and writer.ing is not None else []
    return {
        "pid": os.getpid(),
        "db": str(db),
        "socket": str(sock_path),
        "started_at": _iso(started_at),
        "uptime_s": round(time.time() - started_at, 1),
        "observer": watcher.kind,
        "observer_alive": watcher.alive,
        "observer_restarts": watcher.restarts,
        "roots_watched": [str(r) for r in watcher.root_watches],
        "roots_waiting": [str(r) for r in watcher.pending_roots()],
        "files_watched": sum(1 for s in states if s.missing_since is None),
        "files_missing": sum(1 for s in states if s.missing_since is not None),
        "pending_files": pending,
        "lag_s": round(now - since, 3) if since is not None else 0.0,
        "commit_failures": writer.commit_failures,
        "failing_for_s": round(now - writer.failing_since, 1) if writer.failing_since is not None else None,
        "observer_degraded": watcher.kind == "polling" and not watcher.poll_requested,
        "observer_degraded_reason": watcher.degraded,
        "last_commit_lag_s": round(writer.last_commit_lag, 3) if writer.last_commit_lag is not None else None,
        "last_flush_at": _iso(writer.last_flush_at),
        "initial_scan_done": writer.initial_scan_done,
        "flushes": writer.flushes,
        "events_committed": writer.events_committed,
        "errors": writer.errors,
        "last_error": writer.last_error,
        **store_counts(cursor),
    }
