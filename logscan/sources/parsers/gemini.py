"""Gemini CLI chat recordings (FORMATS.md section 5).

Where: ``~/.gemini/tmp/<project-id>/chats/`` (``$GEMINI_CLI_HOME/.gemini`` replaces ``~/.gemini``).
``<project-id>`` is either the sha256 of the project root (older versions) or a short slug
registered in ``~/.gemini/projects.json``; the migration copies the hash directory to the slug
directory and keeps both, so the same session exists twice. Subagent chats live in
``chats/<parentSessionId>/<sessionId>.jsonl`` with metadata ``kind: "subagent"``.

Two formats, two parser classes, one tool: both emit ``Event.tool == "gemini"``. The parser
*name* (``gemini`` / ``gemini-legacy``) is what ``files.tool`` and ``problems.tool`` record, so
that the ingest re-opens a file with the reader it was first read with; the event's ``tool`` is
the assistant, so reports and dedupe see one Gemini CLI whichever file a message came from.

- ``GeminiParser`` reads the append-only JSONL event log: a metadata line ``{sessionId,
  projectHash, startTime, kind, messages?}``, message records ``{id, timestamp, type, ...}``
  (re-appended in full whenever the message changes), ``{"$set": {...}}`` metadata updates
  (a ``messages`` list there is a checkpoint restating messages), ``{"$rewindTo": id}`` and
  ``{"$patch": ...}`` (content/tool-call edits; they carry no usage).
- ``GeminiLegacyParser`` reads the legacy whole-file JSON ``{sessionId, ..., messages: [...]}``,
  which is rewritten on every update and re-parsed whole whenever it changes.

Dedupe and last-write-wins. A billed call is a ``type: "gemini"`` message whose ``tokens`` is an
object (a ``null``/missing first write is not an event). Its id is ``(sessionId, message id)``,
the same in the hash directory, the slug directory, the legacy ``.json`` and its ``.jsonl``
conversion. Every write of a message is numbered in the order it appears in the session's own
log (1 for the first write of that id, 2 for the next, ...; a checkpoint restating it counts as
a write) and that number is the event's ``rank``: the store keeps the highest rank, so the last
write wins whichever copy is read first (a hash-directory copy is a prefix of the slug copy;
the legacy file holds one write per message, as does the first line of its conversion). A
rewound message was still billed: ``$rewindTo`` removes nothing from usage.

Tokens (Gemini ``usageMetadata``): ``input`` = ``promptTokenCount`` *includes* ``cached``;
``output`` = ``candidatesTokenCount`` excludes ``thoughts``; ``tool`` =
``toolUsePromptTokenCount`` is prompt input not counted in ``input``; ``total = input + output +
thoughts + tool``. Normalized: ``input_tokens = input - cached + tool``, ``cache_read_tokens =
cached``, ``output_tokens = output + thoughts`` (billed output), ``reasoning_tokens =
thoughts``. Should a writer ever report ``input`` net of the cache (recognised, as ccusage
does, by ``total == input + cached + output + thoughts + tool`` while the usual identity does
not hold), ``cached`` is not subtracted again.

Project: the record has no cwd. ``initial_state`` (the one place with I/O, called by the ingest
for a new or reset file) resolves the project directory through its ``.project_root`` file, or
``projects.json`` (slug -> path, or sha256(path) -> path for a hash directory).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from logscan.models import Event, Problem, Record, make_id, new_event
from logscan.sources.parsers.base import as_int, bad_json, load_object, loads, render_validation, schema_problem, top_level_type, typed_lines
from logscan.sources.reader import records
from logscan.sources.locations import EXTENSIONS, gemini_roots
from logscan.pricing import infer_provider

TOOL = "gemini"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@functools.lru_cache(maxsize=1024)
def _chats_layout(path: str) -> tuple[Path | None, str | None]:
    """(project directory, parent session id or None) from ``.../<id>/chats/[<parent>/]<file>``.
    Cached: it is asked once per event of a file, and parsing a path costs more than the event."""
    parts = Path(path).parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] == "chats":
            parent = parts[i + 1] if i + 2 < len(parts) else None
            return Path(*parts[:i]), parent
    return None, None


def resolve_project(project_dir: Path) -> str | None:
    """The project root a ``tmp/<id>`` directory belongs to, or None when nothing says.

    ``.project_root`` in the directory wins; otherwise ``projects.json`` next to ``tmp/``
    (``{"projects": {"/abs/path": "slug"}}``) maps the slug, or the sha256 of a registered path
    matches a hash directory's name. Unreadable or malformed files mean "unknown", never an
    error."""
    try:
        marker = project_dir / ".project_root"
        if marker.is_file():
            text = marker.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return text
    except OSError:
        pass
    name = project_dir.name
    registry = project_dir.parent.parent / "projects.json"
    try:
        data = loads(registry.read_bytes())
    except (OSError, ValueError):
        return None
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return None
    for root, slug in projects.items():
        if isinstance(root, str) and slug == name:
            return root
    if _HEX64.fullmatch(name):
        for root in projects:
            if isinstance(root, str) and hashlib.sha256(root.encode()).hexdigest() == name:
                return root
    return None


class _Base:
    """What the two Gemini parsers share: roots, project lookup, and turning one message write
    into an event."""

    tool: ClassVar[str] = TOOL
    version: ClassVar[int] = 1

    def default_roots(self) -> list[Path]:
        return gemini_roots()

    def initial_state(self, path: str) -> dict[str, Any]:
        """Seed for a new or reset file: the project this chats directory belongs to."""
        project_dir, _ = _chats_layout(path)
        return {"project": resolve_project(project_dir) if project_dir is not None else None}

    def _event(self, rec: Record, msg: dict[str, Any], session: str, kind: Any, project: Any, rank: int) -> Event | Problem | None:
        """The event for one write of a message, None when it carries no usage."""
        if msg.get("type") != "gemini":
            return None
        tokens = msg.get("tokens")
        if tokens is None:
            return None  # first write, before usageMetadata arrived
        if not isinstance(tokens, dict):
            return schema_problem(rec, "tokens: expected an object")
        msg_id = msg.get("id")
        if not isinstance(msg_id, str) or not msg_id:
            return schema_problem(rec, "id: missing on a gemini message with tokens")
        model = msg.get("model")
        if not isinstance(model, str) or not model:
            return schema_problem(rec, "model: missing on a gemini message with tokens")
        ts = msg.get("timestamp")
        if not isinstance(ts, str):
            return schema_problem(rec, "timestamp: missing on a gemini message with tokens")
        try:
            inp = as_int(tokens.get("input"))
            out = as_int(tokens.get("output"))
            cached = as_int(tokens.get("cached"))
            thoughts = as_int(tokens.get("thoughts"))
            tool = as_int(tokens.get("tool"))
            total = tokens.get("total")
            if inp == out == cached == thoughts == tool == 0 and as_int(total) > 0:
                # Only a total: how it splits into input and output (which are priced apart)
                # is unknown. Not an all-zero event: a problem that says so.
                return schema_problem(rec, f"tokens: only 'total' ({as_int(total)}) is given, not input/output; not counted")
            net_of_cache = (
                cached > 0
                and isinstance(total, int)
                and total == inp + cached + out + thoughts + tool
                and total != inp + out + thoughts + tool
            )
            uncached = inp if net_of_cache else inp - cached
            if uncached < 0:
                return schema_problem(rec, "tokens: cached is larger than input")
            subagent = kind == "subagent"
            _, parent = _chats_layout(rec.path)
            return new_event(
                event_id=make_id(TOOL, session, msg_id),
                tool=TOOL,
                provider=infer_provider(model, "google"),
                model=model,
                ts=ts,  # type: ignore[arg-type]  # pydantic parses ISO-8601
                # A subagent's calls belong to the parent's session, as Claude Code's do.
                session_id=(parent or session) if subagent else session,
                project=project if isinstance(project, str) else None,
                is_sidechain=subagent,
                agent_id=session if subagent else None,
                message_id=msg_id,
                input_tokens=uncached + tool,
                output_tokens=out + thoughts,
                cache_read_tokens=cached,
                reasoning_tokens=thoughts,
                source_path=rec.path,
                source_offset=rec.pos,
                rank=rank,
            )
        except ValidationError as e:
            return schema_problem(rec, render_validation(e))
        except (ValueError, TypeError) as e:
            return schema_problem(rec, f"tokens: {e}")


def _collapse(best: dict[int, Event], ev: Event) -> None:
    """Keep the highest-ranked write of each message within a batch (ties: the first)."""
    old = best.get(ev.event_id)
    if old is None:
        best[ev.event_id] = ev
    elif ev.rank > old.rank:
        best[ev.event_id] = ev.model_copy(update={"copies": old.copies + 1})
    else:
        best[ev.event_id] = old.model_copy(update={"copies": old.copies + 1})


class GeminiParser(_Base):
    """The append-only JSONL event log (gemini-cli >= ~0.41)."""

    name: ClassVar[str] = "gemini"
    reader: ClassVar[Literal["jsonl"]] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = EXTENSIONS["gemini"]
    patterns: ClassVar[tuple[str, ...]] = ("*/tmp/*/chats/*.jsonl",)

    def sniff(self, head: bytes) -> float:
        first = head.split(b"\n", 1)[0]
        if b'"projectHash"' in first and b'"sessionId"' in first:
            return 0.9
        if b'"$rewindTo"' in head or (b'"type":"gemini"' in head and b'"tokens"' in head):
            return 0.6
        return 0.0

    def parse_block(self, path: str, base: int, data: bytes, state: dict[str, Any]) -> Iterator[Event | Problem]:
        """Parse a block of complete lines. When every line is shaped like an object, user (and
        info/error/warning) lines are left out without being split off or copied
        (``base.typed_lines``); otherwise every line goes through ``parse``, which checks the
        shape of each."""
        lines = typed_lines(path, base, data, skip=_NOT_BILLED)
        if lines is None:
            return self.parse(records(path, base, data), state)
        return self._parse(lines, state, sniffed=True)

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem]:
        return self._parse(records, state, sniffed=False)

    def _parse(self, records: Iterable[Record], state: dict[str, Any], sniffed: bool) -> Iterator[Event | Problem]:
        """``sniffed``: the unbilled lines were left out already (``parse_block``); every
        record is parsed."""
        # state: sid/kind from the metadata line, project from initial_state, and "writes":
        # how many times each gemini message id has been written so far in this file.
        writes: dict[str, int] = state.setdefault("writes", {})
        best: dict[int, Event] = {}
        for rec in records:
            if not sniffed and not rec.raw.strip():
                continue
            # A user (or info/error) line is most of a chat's bytes and never billed: when its
            # top-level type says so, only its shape is checked.
            obj = load_object(rec, sniffed or top_level_type(rec.raw) not in _NOT_BILLED)
            if obj is None:
                continue
            if not isinstance(obj, dict):
                yield obj  # type: ignore[misc]  (a Problem: bad JSON, or JSON that is not an object)
                continue
            msgs: list[Any]
            if "$rewindTo" in obj or "$patch" in obj:
                continue  # rewound messages were billed; patches edit content, not usage
            if "$set" in obj:
                upd = obj["$set"]
                msgs = upd.get("messages") if isinstance(upd, dict) and isinstance(upd.get("messages"), list) else []
            elif "type" in obj or "id" in obj:
                msgs = [obj]
            elif "sessionId" in obj:
                sid = obj.get("sessionId")
                if not isinstance(sid, str) or not sid:
                    yield schema_problem(rec, "sessionId: expected a non-empty string in the metadata line")
                    continue
                state["sid"] = sid
                state["kind"] = obj.get("kind") if isinstance(obj.get("kind"), str) else None
                m = obj.get("messages")
                msgs = m if isinstance(m, list) else []
            else:
                continue  # an unknown record type: nothing billed in it
            for msg in msgs:
                if not isinstance(msg, dict) or msg.get("type") != "gemini":
                    continue
                sid = state.get("sid")
                if not isinstance(sid, str):
                    yield schema_problem(rec, "gemini message before the session metadata line")
                    continue
                mid = msg.get("id")
                n = 0
                if isinstance(mid, str):
                    n = writes[mid] = writes.get(mid, 0) + 1
                ev = self._event(rec, msg, sid, state.get("kind"), state.get("project"), n)
                if isinstance(ev, Event):
                    _collapse(best, ev)
                elif ev is not None:
                    yield ev
        yield from best.values()


_NOT_BILLED = frozenset({b"user", b"info", b"error", b"warning"})


class GeminiLegacyParser(_Base):
    """The legacy whole-file JSON session (rewritten in full; converted to .jsonl on resume)."""

    name: ClassVar[str] = "gemini-legacy"
    reader: ClassVar[Literal["json"]] = "json"
    extensions: ClassVar[tuple[str, ...]] = EXTENSIONS["gemini-legacy"]
    patterns: ClassVar[tuple[str, ...]] = ("*/tmp/*/chats/session-*.json",)

    def sniff(self, head: bytes) -> float:
        if b'"sessionId"' in head and b'"projectHash"' in head and b'"messages"' in head:
            return 0.9
        return 0.0

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem]:
        # The whole file is one record and is re-parsed from scratch each time it changes, so
        # nothing but the project is taken from state: every write number is 1 (or counts
        # repeats within this file), matching the first line of its .jsonl conversion.
        best: dict[int, Event] = {}
        for rec in records:
            if not rec.raw.strip():
                continue
            try:
                obj = loads(rec.raw)
            except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
                yield bad_json(rec, e)
                continue
            if not isinstance(obj, dict):
                yield schema_problem(rec, "file is JSON but not an object")
                continue
            sid = obj.get("sessionId")
            msgs = obj.get("messages")
            if not isinstance(sid, str) or not sid or not isinstance(msgs, list):
                yield schema_problem(rec, "expected a session object with sessionId and messages")
                continue
            kind = obj.get("kind")
            writes: dict[str, int] = {}
            for msg in msgs:
                if not isinstance(msg, dict) or msg.get("type") != "gemini":
                    continue
                mid = msg.get("id")
                n = 0
                if isinstance(mid, str):
                    n = writes[mid] = writes.get(mid, 0) + 1
                ev = self._event(rec, msg, sid, kind, state.get("project"), n)
                if isinstance(ev, Event):
                    _collapse(best, ev)
                elif ev is not None:
                    yield ev
        yield from best.values()
