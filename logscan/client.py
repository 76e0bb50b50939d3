"""Read access to the store for commands: one place decides how a query reaches the data.

``run_query`` is what every report and ``logscan query`` call. It opens the DuckDB file
read-only (retrying briefly while a writer's lock is held) and refuses statements that would
modify anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logscan.store import Store


def run_query(db: Path, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    with Store.open(db, read_only=True) as store:
        return store.query(sql, params)
