"""How a damaged store file is recognised and reported: one line that says what and points to
``logscan restore`` (``logscan.store.backup``), never a raw checksum error."""

from __future__ import annotations

from pathlib import Path

from logscan.errors import LogscanError


class CorruptStore(LogscanError):
    """The store's file cannot be read back (a checksum or header error)."""


CORRUPT_HINTS = ("corrupt", "checksum", "not a valid duckdb database", "invalid block", "serialization")


def looks_corrupt(e: BaseException) -> bool:
    text = str(e).lower()
    return any(h in text for h in CORRUPT_HINTS)


def corrupt_message(db: Path, e: BaseException) -> str:
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return (
        f"The store {db} is damaged ({first[:200]}). Run 'logscan doctor' to see the backups, then "
        "'logscan restore' to put the newest good one back and re-read the logs still on disk."
    )
