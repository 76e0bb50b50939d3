"""Backups of the store, and the way back from a damaged one.

Claude Code deletes its transcripts after 30 days, so a backup is what protects older history.

- **Automatic.** After a commit (an after-flush hook, so the daemon's writer and ``backfill``
  both make them) at most every ``backup_every_hours`` (default 24) a consistent copy is made:
  the store is checkpointed (nothing left in the WAL) and copied byte for byte while no write
  can run (the hook runs on the only writer), then the copy is opened and checked. The newest
  ``backup_keep`` copies (default 7) are kept in ``<store dir>/backups/`` (0700, files 0600).
  Settings: ``backup_keep`` (0 turns backups off), ``backup_every_hours``, ``backup_dir``, in
  ``settings.json`` (``logscan backup --keep N --every-hours H``).
- **Restore.** ``logscan restore`` moves the damaged store (and its WAL) aside as
  ``*.damaged-<time>`` (never deletes it), copies the newest backup that opens and passes the
  check into place, and re-reads the logs still on disk: event ids are stable, so the re-read
  adds exactly what came after the backup.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logscan.errors import LogscanError
from logscan.store.damage import CorruptStore, corrupt_message

PREFIX = "logscan-"
SUFFIX = ".duckdb"
DEFAULT_KEEP = 7
DEFAULT_EVERY_HOURS = 24.0


def _settings() -> dict[str, Any]:
    from logscan.reports.budget import load_settings

    try:
        return load_settings()
    except Exception:  # noqa: BLE001  (a broken settings file must not stop backups: defaults)
        return {}


def backup_dir(db: Path) -> Path:
    v = _settings().get("backup_dir")
    return Path(v).expanduser() if v else Path(db).expanduser().absolute().parent / "backups"


def keep_count() -> int:
    try:
        return max(0, int(_settings().get("backup_keep", DEFAULT_KEEP)))
    except (TypeError, ValueError):
        return DEFAULT_KEEP


def every_seconds() -> float:
    try:
        return max(0.0, float(_settings().get("backup_every_hours", DEFAULT_EVERY_HOURS))) * 3600
    except (TypeError, ValueError):
        return DEFAULT_EVERY_HOURS * 3600


def list_backups(db: Path) -> list[Path]:
    """This store's backups, newest first (by the UTC time in their names)."""
    d = backup_dir(db)
    if not d.is_dir():
        return []
    stem = Path(db).stem
    return sorted((p for p in d.glob(f"{PREFIX}{stem}-*{SUFFIX}") if p.is_file()), key=lambda p: p.name, reverse=True)


def check_file(path: Path) -> dict[str, Any]:
    """Open a store file read-only in a fresh instance and read every events column (so every
    block's checksum is verified). Returns counts; raises CorruptStore (or the DuckDB error)."""
    from logscan.store.readonly import duckdb_module

    duckdb = duckdb_module()
    try:
        con = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as e:
        raise CorruptStore(corrupt_message(path, e)) from e
    try:
        n, h = con.execute("SELECT count(*), sum(hash(e)) FROM events AS e").fetchone()
        files = con.execute("SELECT count(*) FROM files").fetchone()[0]
        return {"events": int(n), "files": int(files), "hash": int(h or 0)}
    except duckdb.Error as e:
        raise CorruptStore(corrupt_message(path, e)) from e
    finally:
        con.close()


def stamp(epoch: float) -> str:
    """UTC time in a backup's name, to the microsecond (two backups in one second stay two)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def make_backup(store: Any, now: float | None = None) -> Path:
    """A consistent, checked copy of the open read-write ``store``; rotates old ones. Must run on
    the store's only writer (no commit can happen during the copy)."""
    db = Path(store.path).expanduser().absolute()
    d = backup_dir(db)
    from logscan.paths import make_private_dir

    make_private_dir(d)
    final = d / f"{PREFIX}{db.stem}-{stamp(now or time.time())}{SUFFIX}"
    part = final.with_name(final.name + ".part")
    store.con.execute("CHECKPOINT")
    old = os.umask(0o077)
    try:
        shutil.copyfile(db, part)
    finally:
        os.umask(old)
    try:
        check_file(part)
    except Exception:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, final)
    rotate(db)
    return final


def make_backup_call(store: Any) -> str:
    """``logscan backup --now``, as a registered write (``logscan.service.calls``)."""
    return str(make_backup(store))


def rotate(db: Path) -> list[Path]:
    keep = max(keep_count(), 1)
    gone = list_backups(db)[keep:]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def maybe_backup(store: Any) -> Path | None:
    """After-flush hook: a backup when the newest is older than the interval (or there is none)."""
    if store.read_only or keep_count() == 0:
        return None
    newest = list_backups(store.path)
    if newest and time.time() - newest[0].stat().st_mtime < every_seconds():
        return None
    return make_backup(store)


def _locked(db: Path) -> bool:
    from logscan.store.readonly import duckdb_module

    duckdb = duckdb_module()
    try:
        duckdb.connect(str(db), read_only=True).close()
        return False
    except duckdb.Error as e:
        return "set lock" in str(e).lower() or "conflicting lock" in str(e).lower()


def restore(db: Path, source: Path | None = None) -> dict[str, Any]:
    """Put the newest good backup (or ``source``) in place of ``db``; the old file and its WAL are
    kept as ``*.damaged-<time>``. The caller re-reads the logs afterwards. Refuses while another
    process holds the store (the daemon: stop it first)."""
    db = Path(db).expanduser().absolute()
    candidates = [Path(source)] if source else list_backups(db)
    if not candidates:
        raise LogscanError(
            f"No backup of {db} in {backup_dir(db)}. Without one, move the damaged file aside and run "
            "'logscan backfill' to rebuild from the logs still on disk (older history is lost)."
        )
    chosen, checked, skipped = None, None, []
    for c in candidates:
        try:
            checked = check_file(c)
            chosen = c
            break
        except (CorruptStore, OSError) as e:
            skipped.append(f"{c.name}: {str(e)[:120]}")
    if chosen is None:
        raise LogscanError(f"None of the backups of {db} can be read: {'; '.join(skipped)}")
    if db.exists() and _locked(db):
        raise LogscanError(f"Another process (the logscan daemon?) has {db} open. Stop it first "
                           "('systemctl --user stop logscan'), then run 'logscan restore' again.")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for p in (db, db.with_name(db.name + ".wal")):
        if p.exists():
            aside = p.with_name(f"{p.name}.damaged-{stamp}")
            os.replace(p, aside)
            moved.append(str(aside))
    part = db.with_name(db.name + ".restoring")
    old = os.umask(0o077)
    try:
        shutil.copyfile(chosen, part)
    finally:
        os.umask(old)
    os.replace(part, db)
    return {"restored_from": str(chosen), "events": checked["events"] if checked else 0, "moved_aside": moved, "skipped": skipped}
