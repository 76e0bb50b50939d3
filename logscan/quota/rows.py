"""QuotaSnapshot <-> store rows (``SNAPSHOT_COLUMNS`` order) and spool dicts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from logscan.models import QuotaSnapshot


def _naive(d: datetime | None) -> datetime | None:
    return None if d is None else d.astimezone(timezone.utc).replace(tzinfo=None)


def snapshot_row(s: QuotaSnapshot) -> tuple[Any, ...]:
    return (
        s.snapshot_id,
        s.tool,
        s.window,
        s.scope,
        s.used_percent,
        _naive(s.resets_at),
        _naive(s.captured_at),
        s.source,
        s.window_minutes,
        s.credits,
        s.plan,
        s.zone_assumed,
        s.source_path,
        s.source_offset,
        datetime.now(timezone.utc).replace(tzinfo=None),
        s.note,
    )


def from_spool(d: dict[str, Any]) -> QuotaSnapshot:
    """A spool line (written by the stdlib-only statusline) as a validated snapshot."""

    def ts(v: Any) -> datetime | None:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("spool times are epoch seconds")
        return datetime.fromtimestamp(float(v), tz=timezone.utc)

    return QuotaSnapshot(
        tool=str(d["tool"]),
        window=str(d["window"]),
        scope=d.get("scope"),
        used_percent=d.get("used_percent"),
        resets_at=ts(d.get("resets_at")),
        captured_at=ts(d["captured_at"]),  # type: ignore[arg-type]
        source=str(d.get("source") or "statusline"),
        window_minutes=d.get("window_minutes"),
    )
