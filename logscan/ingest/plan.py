"""What the serial and the parallel ingest paths share: the run's ``Summary`` and the test that
decides whether a file changed since it was read (``identity``/``same_file``). Both
``logscan.ingest.ingestor`` and ``logscan.ingest.parallel`` import this module; neither imports
the other's internals through it."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from logscan.sources.locations import SQLITE_TOOLS

if TYPE_CHECKING:  # a type only: the no-change check imports this module without the store
    from logscan.store.store import FileState


@dataclass
class Summary:
    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_unrecognized: int = 0
    files_reset: int = 0
    files_missing: int = 0
    bytes_read: int = 0
    usage_records: int = 0  # billed-call records seen, copies included
    new_events: int = 0
    updated_events: int = 0
    new_problems: int = 0
    unreadable_folders: int = 0  # folders that could not be listed (a problem row each)
    seconds: float = 0.0
    by_tool: Counter[str] = field(default_factory=Counter)  # events new or updated in the store, per tool
    unpriced: dict[str, int] = field(default_factory=dict)  # model -> events, among this run's

    @property
    def duplicates_dropped(self) -> int:
        return max(self.usage_records - self.new_events, 0)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds else 0.0



def identity(path: str, st: os.stat_result, tool: str | None) -> tuple[int, int, int, int]:
    """(dev, inode, size, mtime) deciding whether a file changed since it was read. A database
    in WAL mode (reader "sqlite") takes writes in its ``-wal``, not in itself: the -wal's size and
    mtime are folded in, so a commit there triggers a read."""
    size, mtime = st.st_size, st.st_mtime_ns
    if tool in SQLITE_TOOLS:
        try:
            wal = os.stat(path + "-wal")
        except OSError:
            pass
        else:
            if wal.st_size:  # an empty -wal holds no rows (a read-only reader may create one)
                size, mtime = size + wal.st_size, max(mtime, wal.st_mtime_ns)
    return st.st_dev, st.st_ino, size, mtime



def planned_bytes(prev: FileState | None, path: str, st: os.stat_result) -> int:
    """The bytes a backfill expects to read from one file: the progress bar's share of it. A
    database in WAL mode counts its -wal too (where its writes are), so OpenCode's database has
    a share like any log; the ingest reports exactly this share per file, whatever it reads."""
    tool = prev.tool if prev is not None else None
    if tool is None and path.endswith(".db"):
        tool = next(iter(sorted(SQLITE_TOOLS)), None)
    size = identity(path, st, tool)[2]
    if prev is None or prev.inode != st.st_ino or st.st_size < prev.offset:
        return size
    return max(size - prev.offset, 0)


def same_file(prev: FileState, path: str, st: os.stat_result) -> bool:
    """Whether a file is exactly as it was when last read: nothing to open."""
    return (prev.dev, prev.inode, prev.size, prev.mtime_ns) == identity(path, st, prev.tool)
