"""The statusline's hand-off: quota readings appended as JSON lines to
``<data dir>/quota-spool.jsonl`` by a process that must not import duckdb or pydantic, then
imported by whichever process next commits to the store (``Ingestor.flush``).

Import is crash-safe: the spool is first renamed to ``quota-spool.<pid>.importing``; its rows go
into the batch; the file is deleted only after the batch committed. A leftover ``.importing``
file (a crash in between) is picked up again, and content-derived snapshot ids make that harmless.
"""

from __future__ import annotations

import os

from logscan.quota.fastjson import dumps, loads

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost milliseconds the statusline does not have
    from pathlib import Path
    from typing import Any

SPOOL_NAME = "quota-spool.jsonl"
MAX_LINE = 4096


def data_dir_str() -> str:
    """``logscan.paths.data_dir()`` without platformdirs or pathlib (the statusline must start
    fast); the same locations platformdirs gives on Linux and macOS."""
    if v := os.environ.get("LOGSCAN_DATA_DIR"):
        return v
    import sys

    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "logscan")
    return os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "logscan")


def data_dir() -> Path:
    from pathlib import Path

    return Path(data_dir_str())


def spool_path() -> str:
    return os.path.join(data_dir_str(), SPOOL_NAME)


def append(records: list[dict[str, Any]]) -> None:
    """Append readings; one write() call per batch so concurrent writers do not interleave."""
    if not records:
        return
    path = spool_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(dumps(r) + "\n" for r in records).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def is_spool_file(name: str) -> bool:
    """Whether a file name in the data dir holds spooled readings: the spool itself, or one
    renamed for import (``quota-spool.<pid>.importing``) whose commit has not finished."""
    return name == SPOOL_NAME or (name.startswith("quota-spool.") and name.endswith(".importing"))


def spool_files() -> list[str]:
    """The names of the files holding spooled readings now (sorted; none when the data dir
    cannot be listed)."""
    try:
        return sorted(n for n in os.listdir(data_dir_str()) if is_spool_file(n))
    except OSError:
        return []


def claim_spool(batch: Any) -> list[Path]:
    """Move spooled readings into ``batch.snapshots``; returns the files to delete after commit."""
    d = data_dir()
    try:
        names = os.listdir(d)
    except OSError:
        return []
    claimed: list[Path] = []
    if SPOOL_NAME in names:
        target = d / f"quota-spool.{os.getpid()}.importing"
        try:
            os.replace(d / SPOOL_NAME, target)
        except OSError:
            pass
        else:
            names.append(target.name)
    for name in sorted(set(names)):
        if name == SPOOL_NAME or not is_spool_file(name):
            continue
        path = d / name
        rows = _read(path)
        if rows is None:
            continue
        batch.snapshots.extend(rows)
        claimed.append(path)
    return claimed


def _read(path: Path) -> list[tuple[Any, ...]] | None:
    from logscan.quota.rows import from_spool, snapshot_row

    try:
        raw = path.read_bytes()
    except OSError:
        return None
    rows = []
    for line in raw.splitlines():
        if not line.strip() or len(line) > MAX_LINE:
            continue
        try:
            rows.append(snapshot_row(from_spool(loads(line))))  # type: ignore[arg-type]
        except Exception:  # a torn or foreign line: skip it, never stop a commit
            continue
    return rows


def release_spool(claimed: list[Path]) -> None:
    for p in claimed:
        try:
            p.unlink()
        except OSError:
            pass
