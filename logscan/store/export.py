"""Export the ledger, import another machine's export, prune old events, apply retention.

An export holds every column of ``events`` (with ``host``, the machine that read the log). An
import merges it by ``event_id`` with the same rank rule as ingestion (``Store.import_events``),
so the same call seen on two machines counts once and importing a file twice adds nothing.

All of these write (or, for export, read in bulk) with the store's read-write connection. When
the daemon runs it holds the only one, so the work is sent to it (``logscan.service.client.run_write``);
otherwise the file is opened read-write here, and a lock held by another program is a clear
error.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import tempfile
import time as _time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from logscan.errors import ConfigError, LogscanError
from logscan.store.migrations import EVENT_COLUMNS
from logscan.store.readonly import stage_dir

FORMATS = ("parquet", "csv", "jsonl")
REQUIRED = [n for n, t in EVENT_COLUMNS if "NOT NULL" in t]
TYPES = {n: t.replace(" NOT NULL", "") for n, t in EVENT_COLUMNS}
RETENTION_EVERY = 3600.0  # seconds between retention passes in the daemon
_last_retention = 0.0


class ExportError(LogscanError):
    pass


def write_call(db: Path, target: str, args: dict[str, Any]) -> Any:
    """Run ``target(store, **args)`` where the read-write connection is: in the daemon when it
    runs (the target must be listed in ``logscan.service.calls.CALLS``), else here with the store
    opened read-write (a lock held by another program is a clear ``DatabaseBusy``)."""
    try:
        from logscan.service.client import NoDaemon, daemon_write
        from logscan.service.protocol import encode_value
    except ImportError:  # a logscan without the daemon's socket
        daemon_write = None
    if daemon_write is not None:
        try:
            return daemon_write(db, "call", {"target": target, "args": {k: encode_value(v) for k, v in args.items()}})
        except NoDaemon:
            pass
    from logscan.store.store import Store

    module, attr = target.split(":")
    fn = getattr(importlib.import_module(module), attr)
    with Store.open(db) as store:
        return fn(store, **args)


def format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    name = path.name.lower()
    for suffix, f in ((".parquet", "parquet"), (".csv", "csv"), (".csv.gz", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl")):
        if name.endswith(suffix):
            return f
    raise ExportError(f"Cannot tell the format of {path} from its name; pass --format parquet, csv or jsonl.")


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# -- export -----------------------------------------------------------------------------


def export_events(store: Any, path: str, fmt: str, since: datetime | None = None) -> dict[str, Any]:
    """Write every column of ``events`` (rows with ts >= since, when given) to ``path``."""
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
    opts = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}[fmt]
    where = "WHERE ts >= ?" if since else ""
    params = [since] if since else []
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB writes into the store's private staging directory (the daemon's instance may write
    # nowhere else); the finished file is then moved into place, private (0600).
    tmp = stage_dir(store.path) / f"export-{os.getpid()}-{_time.monotonic_ns()}.part"
    try:
        store.con.execute(f"COPY (SELECT * FROM events {where} ORDER BY ts, event_id) TO {_lit(str(tmp))} ({opts})", params)
        os.chmod(tmp, 0o600)
        shutil.move(str(tmp), str(out))
    finally:
        tmp.unlink(missing_ok=True)
    n = store.con.execute(f"SELECT count(*) FROM events {where}", params).fetchone()[0]
    return {"path": str(out), "format": fmt, "events": int(n), "bytes": out.stat().st_size}


# -- import -----------------------------------------------------------------------------


def _reader(path: str, fmt: str, columns: list[str] | None = None) -> str:
    p = _lit(path)
    if fmt == "parquet":
        return f"read_parquet({p})"
    if fmt == "csv":
        if columns is None:
            return f"read_csv({p}, header = true, all_varchar = true)"
        types = ", ".join(f"{_lit(n)}: {_lit(TYPES[n])}" for n in columns if n in TYPES)
        return f"read_csv({p}, header = true, types = {{{types}}})"
    return f"read_json({p}, format = 'newline_delimited')"


def import_file(store: Any, path: str, fmt: str) -> dict[str, Any]:
    """Merge an export into the store; return counts (new, updated, rows read). The file is
    copied into the store's staging directory first (the only place the daemon's DuckDB reads)."""
    try:
        fd, staged = tempfile.mkstemp(prefix="import-", suffix="." + fmt, dir=stage_dir(store.path))
        os.close(fd)
        shutil.copyfile(path, staged)
    except OSError as e:
        raise ExportError(f"Cannot read {path}: {e.strerror or e}.") from e
    try:
        return _import_staged(store, path, staged, fmt)
    finally:
        os.unlink(staged)


def _import_staged(store: Any, path: str, staged: str, fmt: str) -> dict[str, Any]:
    import duckdb

    try:
        cols = [r[0] for r in store.con.execute(f"DESCRIBE SELECT * FROM {_reader(staged, fmt)}").fetchall()]
    except duckdb.Error as e:
        raise ExportError(f"Cannot read {path} as {fmt}: {str(e).splitlines()[0]}. Is it a 'logscan export' file?") from e
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise ExportError(f"{path} is not a logscan export: it lacks the columns {', '.join(missing)}. Make one with 'logscan export'.")
    known = [c for c in cols if c in TYPES]
    src = _reader(staged, fmt, cols)
    select = ", ".join(f"CAST({c} AS {TYPES[c]}) AS {c}" for c in known)
    rows = store.con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
    res = store.import_events(f"SELECT {select} FROM {src}")
    return {"path": path, "rows": int(rows), "new_events": res.new_events, "updated_events": res.updated_events,
            "sidechain_replays_dropped": res.sidechain_replays_dropped, "ignored_columns": [c for c in cols if c not in TYPES]}


# -- prune and retention ----------------------------------------------------------------


def prune_events(store: Any, before: datetime) -> dict[str, Any]:
    n = store.delete_events_before(before)
    return {"deleted": n, "before": before}


_SPAN = re.compile(r"^(\d+)\s*([dwmy])$", re.IGNORECASE)


def parse_retention(text: str) -> int:
    """'400d', '52w', '12m', '2y' -> days (a month is 31 days, a year 366, to keep at least that)."""
    m = _SPAN.match(text.strip())
    if not m or int(m.group(1)) <= 0:
        raise ConfigError(f"Cannot read {text!r} as a retention span; use e.g. 400d, 52w, 12m or 2y (or 'off').")
    return int(m.group(1)) * {"d": 1, "w": 7, "m": 31, "y": 366}[m.group(2).lower()]


def retention_days() -> int | None:
    from logscan.reports.budget import load_settings

    v = load_settings().get("retention_days")
    return int(v) if v else None


def set_retention(text: str | None) -> int | None:
    from logscan.reports.budget import load_settings, save_settings

    data = load_settings()
    days = None if text is None or text.strip().lower() in ("off", "none", "0") else parse_retention(text)
    if days is None:
        data.pop("retention_days", None)
    else:
        data["retention_days"] = days
    save_settings(data)
    return days


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    return (now - timedelta(days=days)).astimezone(timezone.utc).replace(tzinfo=None)


def apply_retention(store: Any, now: datetime | None = None, force: bool = False) -> int:
    """After-flush hook: delete events older than the retention setting, at most hourly."""
    global _last_retention
    if not force and _time.monotonic() - _last_retention < RETENTION_EVERY and _last_retention:
        return 0
    _last_retention = _time.monotonic()
    days = retention_days()
    if not days:
        return 0
    return int(store.delete_events_before(retention_cutoff(days, now)))
