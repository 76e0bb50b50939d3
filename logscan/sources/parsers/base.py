"""The one parser protocol.

A parser is pure: it takes records (complete lines with their byte offsets, whole JSON files or
database rows) and a JSON-able ``state`` dict, and yields ``Event`` and ``Problem`` values. It
opens no files, reads no clock and touches no database. ``state`` is the only thing it may
mutate; it is saved with the file's offset in one transaction so a restart resumes exactly.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import orjson
from pydantic import ValidationError

from logscan.models import Event, Problem, Record


class Parser(Protocol):
    name: ClassVar[str]  # stable id, stored in events.tool: "claude-code"
    version: ClassVar[int]  # bump when output for the same input changes
    reader: ClassVar[Literal["jsonl", "json", "sqlite"]]  # how the reader feeds it
    patterns: ClassVar[tuple[str, ...]]  # fnmatch globs on the POSIX path

    def default_roots(self) -> list[Path]:
        """Directories (or files) where this tool keeps its logs on this machine."""
        ...

    def sniff(self, head: bytes) -> float:
        """0.0 to 1.0: how sure we are that a file starting with ``head`` is ours."""
        ...

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem]: ...


# Optional members a parser may define; the ingest looks for each with getattr:
#
#   tool: ClassVar[str]            the Event.tool value when several parsers serve one tool
#                                  (gemini and gemini-legacy); defaults to ``name``.
#   extensions: ClassVar[tuple]    file endings the reader opens (default by reader: .jsonl,
#                                  .json, .db); Codex adds .jsonl.zst.
#   parse_block(path, base, data, state)
#                                  parse a block of complete lines at once, when the parser has
#                                  a faster way than line records (Claude Code: usage lines only).
#   initial_state(path) -> dict    seed ``state`` for a new or reset file; the one place a parser
#                                  may read other files (Gemini's projects.json, .project_root).
#   read_rows(path, state)         for reader "sqlite": yield records past the watermark kept in
#                                  ``state`` (OpenCode's opencode.db, opened read-only in place).


def matches(path: str, patterns: Iterable[str]) -> bool:
    posix = path.replace("\\", "/")
    return any(fnmatch.fnmatchcase(posix, p) for p in patterns)


def loads(raw: bytes) -> Any:
    """orjson, with the stdlib as fallback for lone surrogates orjson rejects."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            return json.loads(raw.decode("utf-8", "surrogatepass"))
        except RecursionError as e:  # absurdly deep nesting: bad input like any other
            raise ValueError("JSON nested too deeply") from e


def bad_json(rec: Record, exc: Exception) -> Problem:
    # The message of a JSON error names a position, never the line's content.
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return Problem(path=rec.path, offset=rec.pos, kind="invalid-json", reason=reason, length=len(rec.raw))


def render_validation(e: ValidationError) -> str:
    """A pydantic validation error as "field: message; ...", for a Problem's reason."""
    # include_input=False: a validation message must never carry the record's content.
    return "; ".join(
        f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors(include_input=False, include_url=False)
    )


def schema_problem(rec: Record, reason: str) -> Problem:
    """A record that parsed but does not have the shape the parser needs (reason cut at 300)."""
    return Problem(path=rec.path, offset=rec.pos, kind="schema", reason=reason[:300], length=len(rec.raw))


def load_object(rec: Record, wanted: bool) -> dict[str, Any] | Problem | None:
    """A line as a JSON object when ``wanted`` (it may carry what the parser looks for);
    otherwise only its shape is checked, since most bytes need no parse. Returns the object,
    a Problem for a malformed line, or None for a line to skip."""
    raw = rec.raw
    if not wanted:
        raw = raw.strip()
        if not raw or looks_like_json_object(raw):
            return None
    try:
        obj = loads(raw)
    except ValueError as e:
        return bad_json(rec, e)
    if not isinstance(obj, dict):
        return schema_problem(rec, "line is JSON but not an object")
    return obj if wanted else None


_TYPE_KEY = b'"type":"'


def top_level_type(raw: bytes, within: int = 512) -> bytes | None:
    """The value of a line's top-level ``"type"`` key when it shows in the first ``within``
    bytes, else None (unknown: parse the line). The key is top-level when it directly follows
    the opening ``{`` or a ``,`` with no other ``{`` before it: a key can only be nested inside
    another object, and a ``"`` inside a string is always escaped, so '"type":"' cannot be text.
    Lets a parser skip, unparsed, the big lines that can carry no usage."""
    t = raw.find(_TYPE_KEY, 0, within)
    if t <= 0 or raw[t - 1] not in b",{" or raw.find(b"{", 1, t) >= 0:
        return None
    end = raw.find(b'"', t + 8, t + 72)
    return raw[t + 8 : end] if end > 0 else None


def typed_lines(
    path: str, base: int, data: bytes, *, skip: frozenset[bytes] = frozenset(), keep_only: bytes | None = None, within: int = 512
) -> list[Record] | None:
    """The complete lines of ``data`` a parser must look at, with their offsets, without copying
    (or splitting off) the others: a line is left out when its top-level ``type`` (as
    ``top_level_type`` sees it, within its first ``within`` bytes) is in ``skip``, or is visible
    and is not ``keep_only``; a line whose type does not show is always handed on. Returns None
    when a line is not shaped like a JSON object (``{`` ... ``}``): the caller then reads the
    block line by line, so that each malformed line is reported. The bytes after the last
    newline are not a complete line and are not handed on."""
    out: list[Record] = []
    find, append = data.find, out.append
    pos = 0
    while True:
        end = find(b"\n", pos)
        if end < 0:
            return out
        if end == pos or data[pos] != 0x7B or data[end - 1] != 0x7D:  # "{" ... "}"
            return None
        t = find(_TYPE_KEY, pos, end if end - pos < within else pos + within)
        if t > pos and data[t - 1] in b",{" and find(b"{", pos + 1, t) < 0:
            q = find(b'"', t + 8, t + 72)
            if q > 0:
                kind = data[t + 8 : q]
                if (kind != keep_only) if keep_only is not None else (kind in skip):
                    pos = end + 1
                    continue
        append(Record(path, base + pos, data[pos:end]))
        pos = end + 1


def looks_like_json_object(raw: bytes) -> bool:
    """A cheap shape check for lines we do not otherwise parse (most of a transcript's bytes)."""
    return raw[:1] == b"{" and raw.rstrip()[-1:] == b"}"


def as_int(v: Any) -> int:
    """Token counts: int, None or missing; anything else is schema drift."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise ValueError(f"expected an integer token count, got {type(v).__name__}")
    return v
