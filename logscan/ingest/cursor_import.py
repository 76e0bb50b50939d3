"""``logscan import cursor FILE``: a Cursor usage export into the store, as the single writer's
write (``TARGET``, registered in ``logscan.service.calls``).

The file is parsed by ``logscan.sources.cursor``; its events carry Cursor's own charge
(``pricing_version = 'cursor-export'``; ``logscan reprice`` leaves them alone) and merge by
event id like every other event, so importing the same file, or an overlapping export, again
adds nothing. The problems of an earlier import of the same path are replaced by this import's.
"""

from __future__ import annotations

import socket
from typing import Any

TARGET = "logscan.ingest.cursor_import:import_cursor"
PRICING_VERSION = "cursor-export"


def import_cursor(store: Any, path: str) -> dict[str, Any]:
    from logscan.ingest.ingestor import event_row
    from logscan.sources.cursor import parse
    from logscan.store.store import Batch, utcnow

    with open(path, "rb") as f:
        data = f.read(256 * 1024 * 1024 + 1)
    if len(data) > 256 * 1024 * 1024:
        from logscan.sources.cursor import CursorCsvError

        raise CursorCsvError(f"{path} is over 256 MB: not a usage export; split it or check the file.")
    events, problems = parse(path, data)
    host = socket.gethostname()
    now = utcnow()
    rows = [event_row(ev, cost, status, None, PRICING_VERSION, host, now) for ev, cost, status in events]
    store.con.execute("DELETE FROM problems WHERE path = ? AND tool = 'cursor'", [path])
    prob_rows = [(p.path, p.offset, p.kind, p.reason, p.length, "cursor", 1, now) for p in problems]
    res = store.ingest(Batch(events=rows, problems=prob_rows))
    return {"rows": len(events) + len(problems), "new_events": res.new_events, "updated_events": res.updated_events,
            "problems": len(problems), "included": sum(1 for _, _, s in events if s == "included")}
