"""Getting quota snapshots into the store and back out.

Writes go through the daemon when it runs and accepts this write (``logscan.service.client.run_write``
with the target registered in ``logscan.service.calls.CALLS``); otherwise the store is opened
read-write here, and a lock held by another process becomes a clear error.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logscan.errors import DatabaseBusy
from logscan.models import QuotaSnapshot
from logscan.quota.rows import snapshot_row

TARGET = "logscan.quota.storage:store_snapshots"


def store_snapshots(store: Any, snapshots: list[dict[str, Any]]) -> int:
    """The write itself, as ``fn(store, **args)``: returns how many snapshots were new."""
    from logscan.store.store import Batch

    batch = Batch(snapshots=[snapshot_row(QuotaSnapshot(**s)) for s in snapshots])
    new = store.ingest(batch).new_snapshots
    try:
        from logscan.quota.cache import write_cache

        write_cache(store)
    except Exception:  # the statusline cache is a convenience; never fail a store for it
        pass
    return int(new)


def save(db: Path, snapshots: list[QuotaSnapshot]) -> tuple[int, str]:
    """Store snapshots; returns (new count, "daemon" | "direct")."""
    payload = [s.model_dump(mode="json") for s in snapshots]
    try:
        from logscan.service.client import run_write_via
        from logscan.service.calls import CALLS
    except ImportError:
        run_write_via = None  # type: ignore[assignment]
        CALLS = set()
    if run_write_via is not None and TARGET in CALLS:
        new, how = run_write_via(db, TARGET, {"snapshots": payload})
        return int(new), how
    from logscan.store.store import Store

    try:
        with Store.open(db, wait=1.0) as store:
            return store_snapshots(store, payload), "direct"
    except DatabaseBusy as e:
        raise DatabaseBusy(
            f"Could not store the quota readings: {e} Nothing was stored; the parsed readings are shown above. "
            "Stop the process holding the database (e.g. the logscan daemon) and paste again."
        ) from e


SNAPSHOT_SQL = """SELECT tool, window_kind, scope, used_percent, resets_at, captured_at, source, window_minutes, credits, zone_assumed
FROM quota_snapshots {where} ORDER BY tool, window_kind, scope NULLS FIRST, captured_at"""


def load_snapshots(db: Path, tool: str | None = None) -> list[dict[str, Any]]:
    """Every stored reading, plus the statusline's readings still waiting in the spool for the
    next commit (so ``quota`` shows the latest reading from any channel at once), in order."""
    from logscan.service.client import run_query

    cols, rows = run_query(db, SNAPSHOT_SQL.format(where="WHERE tool = ?" if tool else ""), [tool] if tool else [])
    out = [dict(zip(cols, r, strict=True)) for r in rows]
    seen = {(d["tool"], d["window_kind"], d["scope"], d["captured_at"]) for d in out}
    for d in spooled(tool):
        if (d["tool"], d["window_kind"], d["scope"], d["captured_at"]) not in seen:
            out.append(d)
    out.sort(key=lambda d: (d["tool"], d["window_kind"], d["scope"] or "", d["captured_at"]))
    return out


def spooled(tool: str | None = None) -> list[dict[str, Any]]:
    """Readings in the statusline spool (and files claimed by a commit in progress), as rows of
    SNAPSHOT_SQL's columns. Unreadable lines are skipped, as the importer does."""
    from logscan.quota.rows import from_spool
    from logscan.quota.spool import MAX_LINE, data_dir, spool_files
    from logscan.quota.fastjson import loads

    d = data_dir()
    out = []
    for name in spool_files():
        try:
            raw = (d / name).read_bytes()
        except OSError:
            continue
        for line in raw.splitlines():
            if not line.strip() or len(line) > MAX_LINE:
                continue
            try:
                s = from_spool(loads(line))  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001  (a torn or foreign line)
                continue
            if tool and s.tool != tool:
                continue
            naive = (lambda t: None if t is None else t.astimezone(timezone.utc).replace(tzinfo=None))
            out.append({"tool": s.tool, "window_kind": s.window, "scope": s.scope, "used_percent": s.used_percent,
                        "resets_at": naive(s.resets_at), "captured_at": naive(s.captured_at), "source": s.source,
                        "window_minutes": s.window_minutes, "credits": s.credits, "zone_assumed": s.zone_assumed})
    return out


def interval_usage(db: Path, bounds: list[tuple[str, str | None, datetime, datetime]]) -> list[tuple[int, float | None, int]]:
    """For each (tool, scope, start, end]: (tokens, cost of priced events, unpriced events).
    A model-scoped window counts only events whose model names the scope's first word."""
    if not bounds:
        return []
    from logscan.service.client import run_query

    values = ", ".join("(?, ?, ?, ?, ?)" for _ in bounds)
    params: list[Any] = []
    for i, (tool, scope, start, end) in enumerate(bounds):
        params += [i, tool, (scope or "").split(" ")[0].lower() or None, start, end]
    sql = f"""WITH b(i, tool, word, t0, t1) AS (VALUES {values})
    SELECT b.i, coalesce(sum(e.total_tokens), 0), sum(e.cost_usd), count(e.event_id) FILTER (WHERE e.cost_usd IS NULL)
    FROM b LEFT JOIN events e ON e.tool = b.tool AND e.ts > b.t0::TIMESTAMP AND e.ts <= b.t1::TIMESTAMP
         AND (b.word IS NULL OR contains(lower(e.model), b.word))
    GROUP BY b.i ORDER BY b.i"""
    _, rows = run_query(db, sql, params)
    out: list[tuple[int, float | None, int]] = [(0, None, 0)] * len(bounds)
    for i, tok, cost, unpriced in rows:
        out[int(i)] = (int(tok), float(cost) if cost is not None else None, int(unpriced))
    return out
