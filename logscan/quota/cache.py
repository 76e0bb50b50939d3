"""The small file the statusline reads instead of the database: today's cost (in the machine's
zone) and the latest Claude Code bars. Written after every commit by the daemon's after-flush
hook (``logscan.ingest.hooks.AFTER_FLUSH``) and after ``logscan usage paste`` stores a panel."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from logscan.quota.spool import data_dir
from logscan.quota.statusline import CACHE_NAME


def today_bounds(now: float | None = None) -> tuple[str, datetime, datetime]:
    """The local calendar day containing ``now`` as (YYYY-MM-DD, start UTC naive, end UTC naive)."""
    now = time.time() if now is None else now
    local = datetime.fromtimestamp(now).astimezone()
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=2)).replace(hour=0)  # robust across DST days
    utc = lambda d: d.astimezone(timezone.utc).replace(tzinfo=None)  # noqa: E731
    return start.strftime("%Y-%m-%d"), utc(start), utc(end)


def write_cache(store: Any, now: float | None = None) -> dict[str, Any]:
    day, start, end = today_bounds(now)
    _, rows = store.query(
        "SELECT sum(cost_usd), count(*) FILTER (WHERE cost_usd IS NULL) FROM events WHERE ts >= ? AND ts < ?", [start, end], guard=False
    )
    cost, unpriced = rows[0] if rows else (None, 0)
    _, bars = store.query(
        """SELECT tool, window_kind, scope, used_percent, epoch(resets_at), epoch(captured_at) FROM quota_snapshots
        WHERE used_percent IS NOT NULL QUALIFY row_number() OVER (PARTITION BY tool, window_kind, scope ORDER BY captured_at DESC) = 1""",
        guard=False,
    )
    data = {
        "date": day,
        "today_cost_usd": float(cost) if cost is not None else 0.0,
        "unpriced_events": int(unpriced or 0),
        "written_at": time.time(),
        "bars": [
            {"tool": t, "window": w, "scope": s, "used_percent": p, "resets_at": r, "captured_at": c} for t, w, s, p, r, c in bars
        ],
    }
    d = data_dir()
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f"{CACHE_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, d / CACHE_NAME)
    return data
