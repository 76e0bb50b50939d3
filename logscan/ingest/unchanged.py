"""The no-change check of ``logscan backfill``: answering "nothing new" from a walk and a few
stats, without opening the store or importing the parsers, DuckDB or the price data.

After a backfill that read everything it found, ``save`` writes a small sidecar beside the
store (``<db>.unchanged``, private like the store): the roots, every file the walk found with
its identity (``plan.identity``: device, inode, size, mtime; a database's ``-wal`` folded in)
and whether a parser claimed it, the logscan version, and the identity of the store file itself
as it was left when closed. ``check`` answers only when all of this is exactly as recorded: the
same roots, the same files with the same identities, the store untouched since (any writer,
``restore`` included, changes its size, mtime or inode; a ``.wal`` beside it means it is open or
was not closed cleanly), no quota readings waiting in the spool and no daemon socket (with a
daemon, the daemon reads). Then a full run would read nothing and write nothing, and its
summary is known: every claimed file unchanged, every unclaimed one unrecognized again. Any
doubt (a file that is not regular, a name that is not UTF-8, a sidecar that does not parse)
means the ordinary run; a run that found problems or unreadable folders writes no sidecar.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import orjson

from logscan.ingest.discovery import Found
from logscan.ingest.plan import identity
from logscan.quota.spool import spool_files
from logscan.store.settled import store_identity

FORMAT = 1


def sidecar(db: Path) -> Path:
    return Path(f"{db}.unchanged")


def _listing(found: Found, tools: dict[str, str | None]) -> list[list[Any]] | None:
    """[path, tool or None, identity...] for every file found, or None when a file is one the
    check will not vouch for (not a regular file, a name that is not UTF-8)."""
    out: list[list[Any]] = []
    for _, files in found:
        for path, st in files:
            if not stat.S_ISREG(st.st_mode):
                return None
            try:
                path.encode("utf-8")
            except UnicodeEncodeError:
                return None
            tool = tools.get(path)
            out.append([path, tool, *identity(path, st, tool)])
    return out


def _daemon_socket() -> bool:
    from logscan.paths import socket_path

    return os.path.lexists(socket_path())


def check(db: Path, roots: list[Path], found: Found) -> dict[str, int] | None:
    """The summary counts of a run that would find nothing new (``files_seen``,
    ``files_unchanged``, ``files_unrecognized``), or None when the ordinary run must decide."""
    from logscan import __version__

    try:
        saved = orjson.loads(sidecar(db).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or saved.get("logscan") != __version__:
        return None
    if getattr(found, "unreadable", None) or saved.get("roots") != [str(r) for r in roots]:
        return None
    store = store_identity(db)
    if store is None or saved.get("store") != store:
        return None
    listed = saved.get("files")
    if not isinstance(listed, list):
        return None
    tools = {row[0]: row[1] for row in listed if isinstance(row, list) and len(row) == 6 and isinstance(row[0], str)}
    now = _listing(found, tools)
    if now is None or now != listed:
        return None
    if spool_files() or _daemon_socket():
        return None
    claimed = sum(1 for row in now if row[1] is not None)
    return {"files_seen": len(now), "files_unchanged": claimed, "files_unrecognized": len(now) - claimed}


def save(db: Path, roots: list[Path], found: Found, states: dict[str, Any], summary: Any) -> bool:
    """Record what a finished run left, when it read everything it found: every file is either
    claimed by a parser and read up to the identity it had when found, or unclaimed (the run
    counted exactly that many unrecognized). Otherwise the sidecar is removed. Returns whether
    one was written."""
    from logscan import __version__
    from logscan.ingest.plan import same_file

    path = sidecar(db)
    tools: dict[str, str | None] = {}
    unclaimed = 0
    ok = not getattr(found, "unreadable", None) and not summary.new_problems and not summary.unreadable_folders
    for _, files in found if ok else ():
        for p, st in files:
            fs = states.get(p)
            if fs is None:
                unclaimed += 1
                tools[p] = None
            elif fs.missing_since is None and same_file(fs, p, st):
                tools[p] = fs.tool
            else:
                ok = False  # read up to somewhere else than where it stood when found
    listing = _listing(found, tools) if ok and unclaimed == summary.files_unrecognized else None
    store = store_identity(db)
    if listing is None or store is None:
        try:
            path.unlink()
        except OSError:
            pass
        return False
    body = orjson.dumps({"format": FORMAT, "logscan": __version__, "roots": [str(r) for r in roots], "store": store, "files": listing})
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return False
    return True
