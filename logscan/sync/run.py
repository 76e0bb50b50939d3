"""One sync (migrate the hub, push, pull) and its configuration, for ``logscan sync`` and the
daemon.

``sync_store(store, url, ...)`` runs on the store's read-write connection: in the daemon it is a
registered write (``logscan.service.calls``) run by the single writer; otherwise the command opens
the store itself. Whatever happens, the attempt is recorded in ``sync_state`` (time, counts, the
error) for ``logscan status``; the URL is kept there without its password.

Configuration: the URL from ``--url``/the argument, else ``LOGSCAN_SYNC_URL``, else
``settings.json``'s ``"sync": {"url": ..., "every_minutes": 15, "redact_paths": null}``. A saved
URL never holds a password (PGPASSWORD or ~/.pgpass give it). ``periodic_sync`` is the daemon's
hook: a sync every ``every_minutes`` when a URL is configured.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from logscan.errors import ConfigError
from logscan.store import syncstate
from logscan.sync.hub import SyncError, connect, first_line, hub_id, migrate_hub, safe_url
from logscan.sync.transfer import BATCH_ROWS, Hook, pull, push

DEFAULT_EVERY_MINUTES = 15.0
_last_periodic: float | None = None


def sync_store(store: Any, url: str, host: str | None = None, redact: str | None = None,
               batch_rows: int = BATCH_ROWS, hook: Hook | None = None) -> dict[str, Any]:
    """Push then pull; return the counts. ``SyncError`` (recorded in the state too) when the hub
    cannot be reached or the sync was cut off; both sides stay consistent and the next sync
    completes it."""
    import psycopg

    if redact is not None and redact not in syncstate.REDACT_MODES:
        raise ConfigError(f"--redact-paths takes one of {', '.join(syncstate.REDACT_MODES)}, not {redact!r}.")
    host = host or socket.gethostname()
    shown = safe_url(url)
    t0 = time.monotonic()
    try:
        pg = connect(url)
    except SyncError as e:
        syncstate.record_attempt(store, str(e), 0, 0)  # shown by 'logscan status' once a hub was used
        raise
    pushed = pulled = 0
    try:
        try:
            applied = migrate_hub(pg)
            syncstate.bind_hub(store, shown, hub_id(pg), host)
            p = push(store, pg, host, redact=redact, batch_rows=batch_rows, hook=hook)
            pushed = p.events
            q = pull(store, pg, host, f"hub:{shown}#logscan.events", batch_rows=batch_rows, hook=hook)
            pulled = q.rows
        except SyncError as e:
            syncstate.record_attempt(store, str(e), pushed, pulled)
            raise
        except (psycopg.Error, OSError) as e:
            msg = f"sync with {shown} was cut off: {first_line(e)}; run it again to complete it"
            syncstate.record_attempt(store, msg, pushed, pulled)
            raise SyncError(msg) from e
        except Exception as e:
            syncstate.record_attempt(store, f"{type(e).__name__}: {first_line(e)}"[:500], pushed, pulled)
            raise
        syncstate.record_attempt(store, None, pushed, pulled)
    finally:
        try:
            pg.close()
        except Exception:
            pass
    return {"hub": shown, "host": host, "hub_migrations": applied, "pushed_events": p.events, "hub_changed": p.changed,
            "hub_sidechain_dropped": p.dropped, "pushed_snapshots": p.snapshots, "pulled_rows": q.rows,
            "new_events": q.new_events, "updated_events": q.updated_events, "bad_rows": q.bad_rows,
            "seconds": round(time.monotonic() - t0, 3), "redact_paths": redact}


# -- configuration ------------------------------------------------------------------------


def settings() -> dict[str, Any]:
    from logscan.reports.budget import load_settings

    s = load_settings().get("sync") or {}
    return s if isinstance(s, dict) else {}


def configured_url() -> str | None:
    return os.environ.get("LOGSCAN_SYNC_URL") or settings().get("url") or None


def save_settings(url: str | None, every_minutes: float | None = None, redact: str | None = None) -> dict[str, Any]:
    """Save (or, with ``url`` None, remove) the daemon's sync settings; a URL with a password is refused."""
    from logscan.reports.budget import load_settings, save_settings as save

    data = load_settings()
    if url is None:
        data.pop("sync", None)
        save(data)
        return {}
    if safe_url(url) != url:
        raise ConfigError("A saved sync URL may not hold a password; put it in ~/.pgpass (or PGPASSWORD) and save "
                          f"{safe_url(url)}.")
    if every_minutes is not None and every_minutes <= 0:
        raise ConfigError("--every takes a number of minutes above 0.")
    if redact is not None and redact not in syncstate.REDACT_MODES:
        raise ConfigError(f"--redact-paths takes one of {', '.join(syncstate.REDACT_MODES)}.")
    entry = {"url": url, "every_minutes": every_minutes or DEFAULT_EVERY_MINUTES, "redact_paths": redact}
    data["sync"] = entry
    save(data)
    return entry


def periodic_sync(store: Any) -> dict[str, Any] | None:
    """The daemon's hook (``logscan.ingest.hooks.PERIODIC``), called on the writer thread: sync
    when a URL is configured and ``every_minutes`` have passed since the last attempt. Failures
    are recorded in ``sync_state`` (``logscan status`` shows them) and retried next period."""
    global _last_periodic
    url = configured_url()
    if not url:
        return None
    s = settings()
    try:
        every = float(s.get("every_minutes") or DEFAULT_EVERY_MINUTES) * 60.0
    except (TypeError, ValueError):
        every = DEFAULT_EVERY_MINUTES * 60.0
    now = time.monotonic()
    if _last_periodic is not None and now - _last_periodic < every:
        return None
    _last_periodic = now
    try:
        return sync_store(store, url, redact=s.get("redact_paths"))
    except (SyncError, ConfigError) as e:
        if syncstate.load_state(store.con) is None:  # never reached a hub: nowhere else to show it
            raise
        return {"error": str(e)}
