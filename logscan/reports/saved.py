"""Saved renderings of reports: the same report asked again of the same, untouched store is
printed from the text the last run printed, without loading click, DuckDB or the report code.

A rendering is saved (``save``, called by ``service.thin`` after the run) only when the command succeeded, the store was the same file,
unwritten, before and after the run (``store.settled``), and the output cannot depend on the
time of day: never for ``report blocks`` (the running block) or a relative ``--since``/``--until``
(``7d``, ``12h``). The key is everything else the output depends on: the logscan version, the
store's path and identity, the command's arguments, the terminal (width, tty, colour) and the
time zone ($TZ, or the machine's /etc/localtime and /etc/timezone). Any write to the store, a
restore, a daemon holding it open (a ``.wal``) makes every saved rendering miss. They live in
``<db>.reports/`` (0700, files 0600), at most KEEP of them, those of an older store identity
removed when a new one is saved; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from logscan.store.settled import store_identity

FORMAT = 1
KEEP = 32
_RELATIVE = re.compile(r"^\s*\d+\s*[hdwmy]\s*$", re.IGNORECASE)


def folder(db: Path) -> Path:
    return Path(f"{db}.reports")


def _zone() -> list[str | None]:
    try:
        localtime: str | None = os.path.realpath("/etc/localtime")
    except OSError:
        localtime = None
    try:
        with open("/etc/timezone", encoding="utf-8", errors="replace") as f:
            named: str | None = f.read(200).strip()
    except OSError:
        named = None
    return [os.environ.get("TZ"), localtime, named]


def key(db: Path, argv: list[str], terminal: tuple[Any, ...]) -> tuple[str, list[int]] | None:
    """(the key of this question, the store's identity), or None when the answer may not be
    saved or reused (a report that depends on the clock, a store that is being written)."""
    from logscan import __version__

    if len(argv) < 2 or argv[1] == "blocks" or any(_RELATIVE.match(a.rpartition("=")[2]) for a in argv[2:]):
        return None
    ident = store_identity(db)
    if ident is None:
        return None
    text = json.dumps([FORMAT, __version__, str(db), argv, list(terminal), _zone(), ident])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), ident


def load(db: Path, k: str) -> tuple[str, str] | None:
    """(stdout, stderr) saved under ``k``, or None."""
    try:
        with open(folder(db) / f"{k}.json", "rb") as f:
            saved = json.loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        return None
    out, err = saved.get("stdout"), saved.get("stderr")
    if not isinstance(out, str) or not isinstance(err, str):
        return None
    return out, err


def save(db: Path, k: str, ident: list[int], out: str, err: str) -> None:
    """Save a rendering (atomically, privately) and drop those of other store identities and
    beyond the newest KEEP. Failing to save is not an error: the next run renders again."""
    d = folder(db)
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)
        tmp = d / f".{k}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
            json.dump({"format": FORMAT, "store": ident, "stdout": out, "stderr": err}, f)
        os.replace(tmp, d / f"{k}.json")
        entries = sorted(d.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for i, p in enumerate(entries):
        if p.name == f"{k}.json":
            continue
        try:
            stale = i >= KEEP or json.loads(p.read_bytes()).get("store") != ident
        except (OSError, ValueError, AttributeError):
            stale = True
        if stale:
            try:
                p.unlink()
            except OSError:
                pass
