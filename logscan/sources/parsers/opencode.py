"""OpenCode: the SQLite ``opencode.db`` (v1.2+) and the legacy per-message JSON files
(FORMATS.md section 4).

**What is billed.** An assistant message is one model turn. OpenCode creates its row with
all-zero tokens and rewrites it in place as the turn runs. A turn may take several steps (one
model call each): every step writes a ``step-finish`` part with that call's ``tokens`` and
``cost``, and then *overwrites* ``message.tokens`` with the same figures (processor.ts
``assistantMessage.tokens = usage.tokens``) while ``message.cost`` accumulates. So **each
step-finish part is one billed call and one event** (its own tokens; its ``time_updated`` as the
time where the database has it); ``message.tokens`` is only the last step and is used alone only
for a message without step-finish parts (older OpenCode), as one call. A message whose counted
tokens are all zero (the first write, an aborted call) is not an event. The per-session
``tokens_*``/``cost`` columns of v1.16 are totals of the same messages: never read.

**Assembled by the reader, ids that cannot double count.** Message rows and part rows are written
at different moments, and the store can only merge events by id (never delete one). The reader
(``read_rows``) hands the parser one record per *touched* message that already holds the
message, its session (for the project and the subagent flag) and **all** of its step-finish
parts as they are now. The first step (by part id alone: OpenCode's ids ascend with creation,
while ``time_updated`` exists only in the database and moves when a row is rewritten, so
ordering by time would name the same call differently in the two stores) has ``event_id =
make_id("opencode", message id)``, the id a message read before any of its parts would get, so
the two are one event; every later step has ``make_id("opencode", message id, part id)``. The
legacy JSON store yields the same assembled record (message file, session file, step-finish
part files, the same part ids) and so the same ids: a call found in both stores counts once.

**Last write wins.** ``rank = steps << 44 | time``: a step's event (steps = 1) outranks the
message-level event of the same id (steps = 0), then the later ``time_updated`` (milliseconds)
wins; legacy files have no ``time_updated`` and use the message's ``time.completed`` or
``time.created``. The store keeps the highest rank, so a re-read of unchanged rows changes
nothing.

**Watermark.** The database is not read by byte offset: ``state["watermark"]`` is the highest
``time_updated`` whose records were parsed, committed with their events. A read takes the
messages with a message row or step-finish part updated at or after ``watermark - LOOKBACK_MS``
(a writer stamps ``time_updated`` before it waits for the lock, so a row can commit with a time
a little below rows already read; re-reading those few messages is harmless, ranks are equal).

**Reading in place.** The database is opened read-only through the URI ``file:…?mode=ro``, in
place, so rows committed only to ``opencode.db-wal`` are seen; it is never copied (a copy
without its ``-wal`` loses recent rows) and never written. When OpenCode is not running and
its ``-wal``/``-shm`` are gone, SQLite creates empty ones beside the database to read it; the
database file itself is untouched.

**Token mapping.** ``tokens.input`` is already uncached (OpenCode subtracts cache reads) and
goes to ``input_tokens``; ``cache.read`` to ``cache_read_tokens``; ``cache.write`` to
``cache_write_5m_tokens`` unless a ``write5m``/``write1h`` split exists (a remainder of
``write`` beyond the split is billed at the 5-minute rate); ``output`` to ``output_tokens``;
``reasoning`` to ``reasoning_tokens``, stored apart and never added to any total (FORMATS.md
section 4). Older OpenCode reported the AI SDK's ``outputTokens`` (reasoning included for
OpenAI), newer versions report visible output only and price reasoning at the output rate, so
when ``reasoning`` is non-zero ``output_tokens`` may miss it: such events are flagged
``output_lower_bound``. ``provider`` is ``providerID`` as OpenCode names it (inferred from the
model only when missing), ``model`` is ``modelID``; the project is ``path.cwd`` (else
``path.root``, else the session's ``directory``); a session with a ``parent_id`` is a subagent
(task) session, so its events are sidechain events.
"""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import ValidationError

from logscan.models import Event, Problem, Record, make_id, new_event
from logscan.sources.parsers.base import as_int, loads, render_validation
from logscan.sources.locations import EXTENSIONS, opencode_roots
from logscan.pricing import infer_provider, pricing_provider

LOOKBACK_MS = 60_000
TIME_BITS = 44  # epoch milliseconds stay below 2**44 until the year 2527
MAX_STEPS = (1 << (62 - TIME_BITS)) - 1
BATCH_IDS = 500  # messages assembled per query
SQLITE_HEADER = b"SQLite format 3\x00"
STEP_FINISH = b'"step-finish"'


# -- reading (the only I/O of this module) -------------------------------------------------


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    return str(v)


def _columns(con: sqlite3.Connection, table: str) -> set[str | None]:
    return {_text(r[1]) for r in con.execute(f"PRAGMA table_info({table})")}


class Assembled(NamedTuple):
    """One assembled message as the readers hand it to ``parse``: ``obj`` is the record (the
    shape documented above, the texts still unparsed: ``bytes`` from the database, ``str`` or
    ``bytes`` from legacy files), ``size`` the bytes of those texts (what the read counts).
    Built in memory, never encoded to JSON and parsed back."""

    path: str
    pos: int
    obj: dict[str, Any]
    size: int


def _assemble(path: str, mid: str | None, t: Any, m: Any, steps: list[dict[str, Any]]) -> Assembled:
    """The record of message ``mid`` from its row ``m`` (id, session id, created, updated, data,
    session parent, session directory; None when the row is absent) and its step-finish parts."""
    rec: dict[str, Any] = {"store": "db", "steps": steps}
    size = sum(len(s["data"]) for s in steps)
    if m is None:
        rec["message"] = {"id": mid}
    else:
        rec["message"] = {"id": _text(m[0]), "session_id": _text(m[1]), "time_created": m[2], "time_updated": m[3], "data": m[4]}
        rec["session"] = {"id": _text(m[1]), "parent_id": _text(m[5]), "directory": _text(m[6])}
        size += len(m[4]) if isinstance(m[4], bytes | str) else 0
    return Assembled(path, int(t) if isinstance(t, int) else 0, rec, size)


# A step-finish part, told apart by text: instr() is cheap and lets the rare other part that
# mentions "step-finish" through (``parse`` checks the parsed type); json_extract over every
# recent part cost a tenth of the read.
IS_STEP = "instr(data, '\"step-finish\"') > 0"


def read_db(path: str, state: dict[str, Any]) -> Iterator[Assembled | Problem]:
    """The messages of ``opencode.db`` touched at or after the watermark, each assembled with its
    session and all its step-finish parts, in ``time_updated`` order (so a watermark taken after
    any prefix of them is safe). One read transaction: one consistent snapshot, WAL included.
    Sets ``state["rows_total"]`` (the number of records it will yield) once it knows it.

    Without a watermark (a first read) every message is touched: the step-finish parts are then
    read in one pass over the part table, instead of once to find the touched messages and once
    more, message by message, to fetch their parts (each pass reads every part's text)."""
    watermark = state.get("watermark")
    since = int(watermark) - LOOKBACK_MS if isinstance(watermark, int) else None
    uri = "file:" + quote(Path(path).absolute().as_posix()) + "?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
    con.text_factory = bytes  # a row that is not valid UTF-8 becomes a Problem, not an exception
    try:
        con.execute("BEGIN")
        tables = {_text(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "message" not in tables or "part" not in tables:
            yield Problem(
                path=path, offset=0, kind="schema",
                reason="no OpenCode message/part tables in this database (not OpenCode's, or not migrated yet)",
            )
            return
        session_cols = _columns(con, "session") if "session" in tables else set()
        s_parent = "s.parent_id" if "parent_id" in session_cols else "NULL"
        s_dir = "s.directory" if "directory" in session_cols else "NULL"
        join = "LEFT JOIN session s ON s.id = m.session_id" if session_cols else ""
        msg_sql = f"SELECT m.id, m.session_id, m.time_created, m.time_updated, m.data, {s_parent}, {s_dir} FROM message m {join}"
        step_sql = "SELECT id, message_id, time_updated, data FROM part WHERE "
        if since is None:
            yield from _read_all(con, path, state, msg_sql, step_sql + IS_STEP + " ORDER BY message_id, id")
            return
        touched = con.execute(
            f"""SELECT mid, max(t) AS t FROM (
                  SELECT id AS mid, time_updated AS t FROM message WHERE time_updated >= ?
                  UNION ALL
                  SELECT message_id, time_updated FROM part WHERE time_updated >= ? AND {IS_STEP})
                GROUP BY mid ORDER BY t, mid""",
            [since, since],
        ).fetchall()
        state["rows_total"] = len(touched)  # for the progress bar: how many records follow
        for i in range(0, len(touched), BATCH_IDS):
            chunk = touched[i : i + BATCH_IDS]
            ids = [_text(r[0]) for r in chunk]  # bound as TEXT: a bytes parameter would be a BLOB
            marks = ",".join("?" * len(ids))
            msgs = {_text(r[0]): r for r in con.execute(f"{msg_sql} WHERE m.id IN ({marks})", ids)}
            steps = _steps_by_message(con.execute(f"{step_sql} message_id IN ({marks}) AND {IS_STEP} ORDER BY message_id, id", ids))
            for mid, (_, t) in zip(ids, chunk, strict=True):
                yield _assemble(path, mid, t, msgs.get(mid), steps.get(mid, []))
    finally:
        con.close()


def _steps_by_message(rows: Iterable[tuple[Any, ...]]) -> dict[str | None, list[dict[str, Any]]]:
    steps: dict[str | None, list[dict[str, Any]]] = {}
    for pid, mid, t, data in rows:
        steps.setdefault(_text(mid), []).append({"id": _text(pid), "time_updated": t, "data": data})
    return steps


def _read_all(con: sqlite3.Connection, path: str, state: dict[str, Any], msg_sql: str, step_sql: str) -> Iterator[Assembled]:
    """Every message (a first read): one pass over the messages, one over the step parts, then
    the records in (latest time_updated, id) order, as the watermarked read yields them."""
    msgs = {_text(r[0]): r for r in con.execute(msg_sql)}
    steps = _steps_by_message(con.execute(step_sql))
    latest: dict[str | None, Any] = {mid: r[3] for mid, r in msgs.items()}
    for mid, parts in steps.items():
        for p in parts:
            t = p["time_updated"]
            old = latest.get(mid)
            if old is None or (isinstance(t, int) and (not isinstance(old, int) or t > old)):
                latest[mid] = t
    order = sorted(latest, key=lambda mid: (latest[mid] if isinstance(latest[mid], int) else 0, mid or ""))
    state["rows_total"] = len(order)
    for mid in order:
        yield _assemble(path, mid, latest[mid], msgs.get(mid), steps.get(mid, []))


class _LegacyParts:
    """Which part files of a legacy message are step-finish parts. A part's type never changes,
    so each file is classified once; without this every step-finish file would re-read all of
    its message's parts."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.kinds: OrderedDict[str, dict[str, bool]] = OrderedDict()

    def steps(self, part_dir: Path) -> list[Path]:
        try:
            names = sorted(n for n in os.listdir(part_dir) if n.endswith(".json"))
        except OSError:
            return []
        key = str(part_dir)
        known = self.kinds.pop(key, {})
        self.kinds[key] = known
        while len(self.kinds) > self.size:
            self.kinds.popitem(last=False)
        out = []
        for n in names:
            if n not in known:
                try:
                    known[n] = STEP_FINISH in (part_dir / n).read_bytes()
                except OSError:
                    continue
            if known[n]:
                out.append(part_dir / n)
        return out


_LEGACY = _LegacyParts()


def _legacy_kind(path: str) -> tuple[str, Path] | None:
    """('message' | 'part' | 'session', the storage directory) for a legacy JSON file."""
    p = Path(path)
    if len(p.parts) < 4 or p.suffix != ".json":
        return None
    kind, storage = p.parts[-3], p.parents[2]
    if storage.name != "storage" or kind not in ("message", "part", "session"):
        return None
    return kind, storage


def read_legacy(path: str) -> Iterator[Assembled | Problem]:
    """A legacy ``storage/`` file, as the assembled record of its message: the message file, its
    session file and every step-finish part file, each as bytes (parsed, and judged, by ``parse``).
    A part that is not a step-finish part, and a session file, yield nothing."""
    found = _legacy_kind(path)
    if found is None:
        return
    kind, storage = found
    p = Path(path)
    if kind == "session":
        return
    raw = p.read_bytes()
    if kind == "part":
        if STEP_FINISH not in raw:
            return
        msg_id = p.parent.name
        msg_files = sorted(storage.glob(f"message/*/{msg_id}.json"))
        if not msg_files:
            yield Assembled(path, 0, {"store": "json", "message": {"id": msg_id}, "steps": [{"path": path, "data": raw}]}, len(raw))
            return
        msg_path, msg_raw = msg_files[0], msg_files[0].read_bytes()
    else:
        msg_path, msg_raw = p, raw
        msg_id = p.stem
    rec: dict[str, Any] = {"store": "json", "message": {"path": str(msg_path), "data": msg_raw}, "steps": []}
    size = len(msg_raw)
    session_id = msg_path.parent.name
    for sp in sorted(storage.glob(f"session/*/{session_id}.json"))[:1]:
        try:
            data = sp.read_bytes()
        except OSError:
            continue
        rec["session"] = {"path": str(sp), "data": data}
        size += len(data)
    for step in _LEGACY.steps(storage / "part" / msg_id):
        try:
            data = step.read_bytes()
        except OSError:
            continue
        rec["steps"].append({"path": str(step), "data": data})
        size += len(data)
    yield Assembled(path, 0, rec, size)


def _raw(v: Any) -> bytes:
    """A text of a record as bytes for the JSON parser: bytes as read, or a str (a record given
    as JSON) encoded back exactly (lone surrogates included)."""
    return v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")


# -- parsing (pure) ----------------------------------------------------------------------


def _ms(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return int(v)


def _tokens(t: Any) -> tuple[int, int, int, int, int, int]:
    """(input, output, cache read, cache write 5m, cache write 1h, reasoning) of a tokens object."""
    if not isinstance(t, dict):
        raise ValueError("tokens: expected an object")
    cache = t.get("cache")
    if cache is None:
        cache = {}
    if not isinstance(cache, dict):
        raise ValueError("tokens.cache: expected an object")
    write = as_int(cache.get("write"))
    if "write5m" in cache or "write1h" in cache:
        cw5, cw1h = as_int(cache.get("write5m")), as_int(cache.get("write1h"))
        if write > cw5 + cw1h:
            cw5 += write - cw5 - cw1h
    else:
        cw5, cw1h = write, 0
    return (as_int(t.get("input")), as_int(t.get("output")), as_int(cache.get("read")), cw5, cw1h, as_int(t.get("reasoning")))


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


class OpenCodeParser:
    name: ClassVar[str] = "opencode"
    version: ClassVar[int] = 1
    reader: ClassVar[Literal["sqlite"]] = "sqlite"
    extensions: ClassVar[tuple[str, ...]] = EXTENSIONS["opencode"]
    patterns: ClassVar[tuple[str, ...]] = (
        "*/opencode.db",
        "*/opencode-*.db",
        "*/storage/message/*/*.json",
        "*/storage/part/*/*.json",
        "*/storage/session/*/*.json",
    )

    def default_roots(self) -> list[Path]:
        return opencode_roots()

    def sniff(self, head: bytes) -> float:
        if head.startswith(SQLITE_HEADER):
            # In WAL mode the schema may still be only in the -wal; the file name decides then.
            return 0.9 if b"time_updated" in head and b"message_id" in head else 0.4
        if b'"sessionID"' in head and (b'"role"' in head or b'"messageID"' in head):
            return 0.8 if (b'"modelID"' in head or b'"providerID"' in head or b'"type"' in head) else 0.6
        if b'"projectID"' in head and b'"directory"' in head:
            return 0.6
        return 0.0

    def read_rows(self, path: str, state: dict[str, Any]) -> Iterator[Assembled | Problem]:
        """The reader for the ingest's "sqlite" path: records past the watermark in ``state``
        (the database), or the assembled message of one legacy JSON file."""
        if path.endswith(".json"):
            return read_legacy(path)
        return read_db(path, state)

    def parse(self, records: Iterable[Record | Assembled], state: dict[str, Any]) -> Iterator[Event | Problem]:
        """Events of assembled messages: ``Assembled`` records from the readers, or a ``Record``
        holding an assembled message as JSON (the same shape)."""
        best: dict[int, Event] = {}
        for rec in records:
            if isinstance(rec, Assembled):
                obj: Any = rec.obj
                size = rec.size
            else:
                size = len(rec.raw)
                try:
                    obj = loads(rec.raw)
                except ValueError as e:
                    yield Problem(path=rec.path, offset=rec.pos, kind="invalid-json", reason=str(e).splitlines()[0][:300], length=size)
                    continue
            if not isinstance(obj, dict) or not isinstance(obj.get("message"), dict):
                yield Problem(path=rec.path, offset=rec.pos, kind="schema", reason="record is not an assembled OpenCode message", length=size)
                continue
            for item in self._message(rec, obj):
                if isinstance(item, Problem):
                    yield item
                    continue
                old = best.get(item.event_id)
                if old is None or item.rank > old.rank:
                    best[item.event_id] = item if old is None else item.model_copy(update={"copies": old.copies + 1})
                else:
                    best[item.event_id] = old.model_copy(update={"copies": old.copies + 1})
            if obj.get("store") == "db" and rec.pos > int(state.get("watermark") or 0):
                state["watermark"] = rec.pos
        yield from best.values()

    def _message(self, rec: Record | Assembled, obj: dict[str, Any]) -> Iterator[Event | Problem]:
        m = obj["message"]
        where = m.get("path") or rec.path
        if m.get("data") is None:
            yield Problem(path=rec.path, offset=rec.pos, kind="schema", reason=f"step-finish parts of message {m.get('id')} but no message record")
            return
        try:
            data = loads(_raw(m["data"]))
        except ValueError as e:
            yield Problem(path=where, offset=rec.pos, kind="invalid-json", reason=str(e).splitlines()[0][:300], length=len(m["data"]))
            return
        if not isinstance(data, dict):
            yield Problem(path=where, offset=rec.pos, kind="schema", reason="message data is not a JSON object")
            return
        if data.get("role") != "assistant":
            if data.get("role") is None and (data.get("tokens") or obj.get("steps")):
                yield Problem(path=where, offset=rec.pos, kind="schema",
                              reason=f"message {m.get('id')} has tokens but no 'role' (assistant or user?): not counted")
            return  # user messages carry no usage
        # Steps: each step-finish part is one model call, and one event.
        steps: list[tuple[str, int, tuple[int, int, int, int, int, int]]] = []  # (part id, time, tokens)
        latest = _ms(m.get("time_updated")) or 0
        for st in obj.get("steps") or []:
            spath = st.get("path") or rec.path
            try:
                part = loads(_raw(st.get("data")))
            except ValueError as e:
                yield Problem(path=spath, offset=rec.pos, kind="invalid-json", reason=str(e).splitlines()[0][:300])
                continue
            if not isinstance(part, dict) or part.get("type") != "step-finish":
                continue  # the reader's text prefilter can let another part through
            pid = _str(st.get("id")) or _str(part.get("id")) or (Path(spath).stem if st.get("path") else None)
            if "tokens" not in part or pid is None:
                yield Problem(path=spath, offset=rec.pos, kind="schema", reason=f"step-finish part {pid or '(no id)'} has no tokens or no id")
                continue
            try:
                tokens = _tokens(part["tokens"])
            except ValueError as e:
                yield Problem(path=spath, offset=rec.pos, kind="schema", reason=f"step-finish part {pid}: {e}"[:300])
                continue
            t_part = _ms(st.get("time_updated")) or 0
            steps.append((pid, t_part, tokens))
            latest = max(latest, t_part)
        try:
            if any(any(tok) for _, _, tok in steps):
                # One event per billed call. The first step keeps the message's own id, so an
                # event read from the message row before its parts existed is the same event.
                steps.sort(key=lambda s: s[0])  # by part id only: the same order in both stores
                common = self._common(rec, obj, data)
                first = True
                for pid, t_part, tok in steps:
                    if any(tok):
                        yield self._event(common, tok, 1, t_part, part_id=None if first else pid, part_time=t_part or None)
                        first = False
                return
            tokens = data.get("tokens")
            counted = _tokens(tokens) if tokens is not None else (0,) * 6
            if not any(counted):
                return  # a first write (tokens still zero) or a call that billed nothing
            ev = self._event(self._common(rec, obj, data), counted, 0, latest)
        except ValidationError as e:
            yield Problem(path=where, offset=rec.pos, kind="schema", reason=render_validation(e)[:300])
            return
        except (ValueError, TypeError) as e:
            yield Problem(path=where, offset=rec.pos, kind="schema", reason=str(e)[:300])
            return
        yield ev

    def _common(self, rec: Record | Assembled, obj: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """What every event of one message shares (ValueError when a required field is missing),
        worked out once per message rather than once per step."""
        m = obj["message"]
        message_id = _str(m.get("id")) or _str(data.get("id"))
        if message_id is None:
            raise ValueError("message id: missing")
        model = _str(data.get("modelID"))
        if model is None:
            raise ValueError("modelID: missing on an assistant message with tokens")
        times = data.get("time") if isinstance(data.get("time"), dict) else {}
        created = _ms(times.get("created")) or _ms(m.get("time_created"))
        if created is None:
            raise ValueError("time.created: missing")
        session = self._session(obj.get("session"))
        paths = data.get("path") if isinstance(data.get("path"), dict) else {}
        return {
            "message_id": message_id,
            "session_id": _str(m.get("session_id")) or _str(data.get("sessionID")),
            "model": model,
            "provider": pricing_provider(_str(data.get("providerID")), model) or infer_provider(model, None, message_id),
            "created": created,
            # legacy files have no time_updated: their rank time is the message's completion
            "latest": None if obj.get("store") == "db" else max(_ms(times.get("completed")) or 0, created),
            "project": _str(paths.get("cwd")) or _str(paths.get("root")) or _str(session.get("directory")),
            "is_sidechain": session.get("parent_id") is not None,
            "path": rec.path,
            "pos": rec.pos,
        }

    def _event(
        self, c: dict[str, Any], counted: tuple[int, ...], n_steps: int, latest: int, part_id: str | None = None, part_time: int | None = None,
    ) -> Event:
        if c["latest"] is not None:
            latest = c["latest"]
        message_id = c["message_id"]
        inp, out, cr, cw5, cw1h, reasoning = counted
        return new_event(
            event_id=make_id("opencode", message_id) if part_id is None else make_id("opencode", message_id, part_id),
            tool=self.name,
            provider=c["provider"],
            model=c["model"],
            ts=datetime.fromtimestamp((part_time if part_id is not None and part_time else c["created"]) / 1000, tz=timezone.utc),
            session_id=c["session_id"],
            project=c["project"],
            is_sidechain=c["is_sidechain"],
            message_id=message_id,
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=cr,
            cache_write_5m_tokens=cw5,
            cache_write_1h_tokens=cw1h,
            reasoning_tokens=reasoning,
            output_lower_bound=reasoning > 0,
            source_path=c["path"],
            source_offset=c["pos"],
            rank=(min(n_steps, MAX_STEPS) << TIME_BITS) | (max(latest, 0) & ((1 << TIME_BITS) - 1)),
        )

    @staticmethod
    def _session(s: Any) -> dict[str, Any]:
        """{"parent_id", "directory"} from a session row, or a legacy session file's text."""
        if not isinstance(s, dict):
            return {}
        if "data" not in s:
            return {"parent_id": _str(s.get("parent_id")), "directory": _str(s.get("directory"))}
        try:
            d = loads(_raw(s["data"]))
        except ValueError:
            return {}  # a session file holds no usage: a bad one only loses the project and subagent flag
        if not isinstance(d, dict):
            return {}
        return {"parent_id": _str(d.get("parentID")), "directory": _str(d.get("directory"))}
