"""The store file's identity while nobody writes it: what a cached answer (the no-change check
of ``logscan backfill``, a saved report rendering) is keyed on. Any write changes the file's
size or mtime, a restore its inode, a chmod its mode; a ``.wal`` beside it means a writer has
it open (or did not close it cleanly), and then nothing may be answered from a cache. Imports
nothing but ``os``: it is asked before DuckDB is loaded."""

from __future__ import annotations

import os
from pathlib import Path


def store_identity(db: Path | str) -> list[int] | None:
    """[dev, inode, size, mtime_ns, mode] of the store file, or None when it is missing or has a
    ``.wal`` beside it."""
    try:
        st = os.stat(db)
    except OSError:
        return None
    if os.path.lexists(f"{db}.wal"):
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode]
