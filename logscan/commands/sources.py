"""logscan sources: every place logscan looks, and what came out of each.

One row per (tool, default root), whether the root exists or not, plus a ``(other paths)`` row
per tool for data ingested from elsewhere (``logscan backfill ~/old-laptop/...``). Counts come
from the filesystem (files that look like the tool's logs by location) and from the store
through ``logscan.service.client.run_query`` (through the daemon when it runs, read-only otherwise):
files tracked, files gone from disk, events, events in the last 7 days, problems, the time of
the last event and of the last read. A source that silently went to zero shows up as an old
``last_event`` and ``events_7d`` = 0 next to files that are still being read.

A tool is ``Event.tool``; parsers that share one (Gemini's ``gemini`` and ``gemini-legacy``)
share a row. ``files.tool`` and ``problems.tool`` hold the parser name, mapped to its tool here.
An event or problem is attributed to the longest root its path lies under.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from logscan.commands.common import db_path, emit, format_option, say

OTHER = "(other paths)"
RECENT = timedelta(days=7)
COLUMNS = [
    "tool",
    "parsers",
    "root",
    "exists",
    "files_on_disk",
    "files_tracked",
    "files_gone",
    "events",
    "events_7d",
    "problems",
    "last_event",
    "last_read",
    "status",
]

# One pass over the store: tag every file, event and problem with its tool and the longest
# default root of that tool it lies under, then count per (kind, tool, root).
SQL = """
WITH r AS (SELECT unnest(?::VARCHAR[]) AS tool, unnest(?::VARCHAR[]) AS root),
p AS (SELECT unnest(?::VARCHAR[]) AS parser, unnest(?::VARCHAR[]) AS tool),
tagged AS (
    SELECT 'f' AS k, coalesce(p.tool, f.tool) AS tool, f.path AS path, f.missing_since IS NULL AS present, f.updated_at AS t
    FROM files f LEFT JOIN p ON p.parser = f.tool
    UNION ALL
    SELECT 'e', e.tool, e.source_path, true, e.ts FROM events e
    UNION ALL
    SELECT 'p', coalesce(p.tool, x.tool, '?'), x.path, true, x.recorded_at FROM problems x LEFT JOIN p ON p.parser = x.tool
),
rooted AS (
    SELECT tagged.*, (
        SELECT arg_max(r.root, length(r.root)) FROM r
        WHERE r.tool = tagged.tool AND (tagged.path = r.root OR starts_with(tagged.path, r.root || '/'))
    ) AS root
    FROM tagged
)
SELECT k, tool, root, count(*) AS n, count(*) FILTER (WHERE present) AS n_present,
       count(*) FILTER (WHERE k = 'e' AND t >= ?) AS n_recent, max(t) AS last_t
FROM rooted GROUP BY ALL
"""


def _on_disk(root: Path, patterns: list[str]) -> int:
    """Files under root (or root itself) that look like this tool's logs by location."""
    from logscan.sources.parsers.base import matches

    if root.is_file():
        return 1 if matches(str(root), patterns) else 0
    n = 0
    for dirpath, _, names in os.walk(root, followlinks=True):
        for name in names:
            if matches(os.path.join(dirpath, name), patterns):
                n += 1
    return n


def _status(exists: bool, on_disk: int, tracked: int, gone: int, events: int, recent: int) -> str:
    if not exists and not tracked:
        return "not found"
    notes = []
    if not exists:
        notes.append("root gone; events kept")
    elif on_disk == 0 and tracked == 0:
        notes.append("no logs yet")
    elif tracked == 0:
        notes.append("not ingested: run 'logscan backfill' or start the daemon")
    elif tracked < on_disk:
        notes.append(f"{on_disk - tracked} files not ingested yet")
    if tracked and events == 0:
        notes.append("no events")
    elif events and recent == 0:
        notes.append("no events in 7 days")
    if gone:
        notes.append(f"{gone} files deleted from disk (their events are kept)")
    return "; ".join(notes) or "ok"


def source_rows(db: Path, now: datetime | None = None) -> tuple[list[str], list[tuple[Any, ...]], str | None]:
    """(columns, rows, note): one row per tool and root. ``note`` says why the store had
    nothing to add (no database yet), else None."""
    from logscan.service.client import run_query
    from logscan.errors import NoDatabase
    from logscan.sources.parsers import PARSERS

    now = now or datetime.now(timezone.utc)
    cutoff = now.astimezone(timezone.utc).replace(tzinfo=None) - RECENT
    roots: dict[tuple[str, str], dict[str, Any]] = {}  # (tool, root) -> parsers, patterns
    parser_tool: dict[str, str] = {}
    for p in PARSERS.values():
        tool = getattr(p, "tool", p.name)
        parser_tool[p.name] = tool
        for r in p.default_roots():
            slot = roots.setdefault((tool, str(r)), {"parsers": [], "patterns": []})
            slot["parsers"].append(p.name)
            slot["patterns"].extend(p.patterns)
    counts: dict[tuple[str, str, str], tuple[int, int, int, Any]] = {}
    note = None
    try:
        _, rows = run_query(
            db,
            SQL,
            [[t for t, _ in roots], [r for _, r in roots], list(parser_tool), list(parser_tool.values()), cutoff],
        )
        for k, tool, root, n, n_present, n_recent, last_t in rows:
            counts[(k, tool, root or OTHER)] = (n, n_present, n_recent, last_t)
    except NoDatabase:
        note = f"No database at {db} yet: run 'logscan backfill' (or start 'logscan daemon') to fill it."

    def get(k: str, tool: str, root: str) -> tuple[int, int, int, Any]:
        return counts.get((k, tool, root), (0, 0, 0, None))

    tools_parsers: dict[str, list[str]] = defaultdict(list)
    for name, tool in parser_tool.items():
        tools_parsers[tool].append(name)
    out: list[tuple[Any, ...]] = []
    keys = list(roots)
    # Data from outside the default roots, and tools the store knows but no parser names.
    for _, tool, root in sorted(counts):
        if root == OTHER and (tool, OTHER) not in keys:
            keys.append((tool, OTHER))
    for tool, root in keys:
        f_n, f_present, _, f_last = get("f", tool, root)
        e_n, _, e_recent, e_last = get("e", tool, root)
        p_n = get("p", tool, root)[0]
        if root == OTHER:
            exists, on_disk = None, None
        else:
            path = Path(root)
            exists = path.exists()
            on_disk = _on_disk(path, roots[(tool, root)]["patterns"]) if exists else 0
        parsers = ", ".join(roots[(tool, root)]["parsers"] if (tool, root) in roots else tools_parsers.get(tool, []))
        if root == OTHER:
            status = "no events in 7 days" if e_n and not e_recent else "ok"
        else:
            status = _status(bool(exists), on_disk or 0, f_n, f_n - f_present, e_n, e_recent)
        out.append((tool, parsers, root, exists, on_disk, f_n, f_n - f_present, e_n, e_recent, p_n, e_last, f_last, status))
    out.sort(key=lambda row: (row[0], row[2] == OTHER, row[2]))
    return COLUMNS, out, note


@click.command()
@format_option
@click.pass_context
def sources(ctx: click.Context, fmt: str, no_headers: bool) -> None:
    """Every log location logscan knows, and what each one gave: files on disk and tracked,
    events (all and last 7 days), problems, last event and last read. A source that silently
    went to zero shows as 'no events in 7 days' next to roots that still exist.

    \b
    logscan sources
    logscan sources -f json | jq '.[] | select(.events_7d == 0)'
    """
    columns, rows, note = source_rows(db_path(ctx))
    emit(columns, rows, fmt, no_headers)
    if note:
        say(note)
