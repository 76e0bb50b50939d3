"""Finding the log files: a walk of each root that enters every folder once (symlinks
followed, loops cut), keeps the files some parser's reader opens, lists each file once with its
stat, and reports the folders it could not list. Imports no parser (``sources.locations`` has
what the walk needs), so the no-change check of ``logscan backfill`` can walk without them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from logscan.sources.locations import readable


def walk(root: Path, unreadable: list[str] | None = None) -> Iterator[str]:
    """Every file below root (or root itself), in a stable order. Symlinked files and directories
    are followed, but a directory is entered once (by its (dev, inode)), so a link back up the
    tree (``proj/loop -> ..``) is not a loop. Folders that cannot be listed go to ``unreadable``."""
    if root.is_file() or (root.exists() and not root.is_dir()):
        yield str(root)
        return
    try:
        st = os.stat(root)
    except OSError:
        return
    visited = {(st.st_dev, st.st_ino)}

    def failed(e: OSError) -> None:
        if unreadable is not None and e.filename is not None:
            unreadable.append(os.fsdecode(e.filename))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=failed):
        keep = []
        for d in sorted(dirnames):
            try:
                ds = os.stat(os.path.join(dirpath, d))
            except OSError:
                continue
            if (ds.st_dev, ds.st_ino) not in visited:
                visited.add((ds.st_dev, ds.st_ino))
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


class Found(list[tuple[Path, list[tuple[str, os.stat_result]]]]):
    """(root, the files under it) per root, and the folders that could not be listed."""

    unreadable: list[str]


def discover(paths: Iterable[Path]) -> Found:
    """The candidate log files under each existing root, each listed once, with their stat: a
    file reachable under two paths (through a symlinked folder) is listed under the first."""
    out = Found()
    out.unreadable = []
    seen: set[str] = set()
    ids: set[tuple[int, int]] = set()
    for root in paths:
        root = Path(root).expanduser()
        if not root.exists():
            continue
        files: list[tuple[str, os.stat_result]] = []
        for path in walk(root, out.unreadable):
            if path in seen or not readable(path):
                continue
            seen.add(path)
            if path.endswith(".jsonl.zst") and os.path.exists(path[: -len(".zst")]):
                continue  # Codex: a plain sibling takes precedence over the compressed copy
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                if (st.st_dev, st.st_ino) in ids:
                    continue  # the same file under another path: counted once
                ids.add((st.st_dev, st.st_ino))
            files.append((path, st))
        out.append((root, files))
    return out
