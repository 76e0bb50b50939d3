"""Claude Code JSONL transcripts (FORMATS.md section 1).

Only top-level ``type == "assistant"`` lines with ``message.usage`` are billed calls. Claude
Code writes one line per content block, each repeating the message id, request id and usage
(often with a partial ``output_tokens``), and resumed/forked sessions copy lines into other
files. So an event's id comes from ``(message.id, requestId)`` (``message.id`` alone when the
request id is missing) and when the same id is seen again the copy with the higher ``rank``
wins: a non-sidechain copy beats a sidechain one, then the larger token total wins. The store
applies the same rule across files, and drops sidechain replays (``/btw``) whose message id also
has a non-sidechain entry under another request id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from orjson import JSONDecodeError
from orjson import loads as _loads
from pydantic import ValidationError

from logscan.models import Event, Problem, QuotaSnapshot, Record, make_id, validate_event
from logscan.sources.parsers.base import as_int, load_object, loads, render_validation, schema_problem, typed_lines
from logscan.sources.reader import records
from logscan.sources.locations import EXTENSIONS, claude_roots
from logscan.pricing import infer_provider
from logscan.quota.ratelimits import claude_limit_snapshots

SIDECHAIN_RANK = 1 << 50  # a non-sidechain copy outranks any token total


class ClaudeCodeParser:
    name: ClassVar[str] = "claude-code"
    version: ClassVar[int] = 1
    reader: ClassVar[Literal["jsonl"]] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = EXTENSIONS["claude-code"]
    patterns: ClassVar[tuple[str, ...]] = ("*/projects/*.jsonl",)

    def default_roots(self) -> list[Path]:
        return claude_roots()

    def sniff(self, head: bytes) -> float:
        if b'"projectHash"' in head or b'"payload"' in head[:300]:
            return 0.0  # Gemini CLI or Codex
        score = 0.0
        if b'"sessionId"' in head:
            score += 0.4
        if b'"parentUuid"' in head or b'"leafUuid"' in head:
            score += 0.4
        if b'"type":"file-history-snapshot"' in head or b'"type":"summary"' in head:
            score += 0.3
        if b'"requestId"' in head or b'"isSidechain"' in head:
            score += 0.2
        return min(score, 1.0)

    def parse_block(self, path: str, base: int, data: bytes, state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        """Parse a block of complete lines (what the ingest reads at once).

        Most of a transcript's bytes are user (tool result) and progress lines, never billed.
        When every line of the block is shaped like an object, only the lines that may be billed
        calls are parsed (see ``_billable_lines``); otherwise every line goes through ``parse`` so
        malformed ones are reported. No line is copied unless it may be billed.
        """
        lines = _billable_lines(path, base, data)
        if lines is None:
            return self.parse(records(path, base, data), state)
        return self._parse(lines, sniffed=True)

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        return self._parse(records, sniffed=False)

    def _parse(self, records: Iterable[Record], sniffed: bool) -> Iterator[Event | Problem | QuotaSnapshot]:
        """``sniffed``: the records are the lines ``_billable_lines`` handed on (assistant lines,
        or lines whose type it could not see): every one is parsed. Limit notices are recognized
        on the parsed object, and by their bytes only on lines not parsed."""
        # Collapse the copies of one message within this batch (before building any Event);
        # the store applies the same rule across batches and files.
        best: dict[tuple[str, ...], list[Any]] = {}  # key -> [rank, rec, obj, msg, counts, copies, usage, sidechain]
        for rec in records:
            raw = rec.raw
            obj: Any = None
            # Most bytes are user/tool-result and progress lines: no usage, no parse (a line not
            # even shaped like an object is still reported). Sniffed lines are all parsed.
            if sniffed or b'"usage"' in raw:
                try:
                    obj = _loads(raw)  # the common case, without load_object's layers
                except JSONDecodeError:
                    pass
            if type(obj) is dict:
                if _is_limit_notice(obj):
                    yield from claude_limit_snapshots(obj, rec.path, rec.pos)  # quota readings, never billed
            else:  # not parsed, or not by orjson: limit notices by their bytes, then the stdlib or the Problem
                if b"<synthetic>" in raw or b"quotaLimits" in raw:
                    yield from _limit_snapshots(rec)
                obj = load_object(rec, b'"usage"' in raw)
            if type(obj) is not dict:
                if obj is not None:
                    yield obj
                continue
            # Progress echoes (agent_progress) and Task results carry copies of usage deeper
            # down; only a top-level assistant message is a billed call.
            if obj.get("type") != "assistant":
                continue
            msg = obj.get("message")
            if type(msg) is not dict:
                continue
            usage = msg.get("usage")
            if type(usage) is not dict:
                continue
            model = msg.get("model")
            if model == "<synthetic>":
                continue  # made locally by Claude Code (errors, limit notices): nothing billed
            if not isinstance(model, str) or not model:
                yield schema_problem(rec, "message.model: missing on an assistant line with usage")
                continue
            if not isinstance(obj.get("timestamp"), str):
                yield schema_problem(rec, "timestamp: missing on an assistant line with usage")
                continue
            mid, rid = _str(msg.get("id")), _str(obj.get("requestId"))
            key = ("m", mid, rid or "") if mid else ("l", _str(obj.get("uuid")) or f"{rec.path}:{rec.pos}")
            sidechain = obj.get("isSidechain") is True
            old = best.get(key)
            if old is not None and old[7] is sidechain and old[6] == usage:
                old[5] += 1  # another content block of the kept copy: same usage, same rank
                continue
            try:
                counts = _counts(usage)
            except (ValueError, TypeError) as e:
                yield schema_problem(rec, str(e))
                continue
            total = counts[0] + counts[1] + counts[2] + counts[3] + counts[4]
            if not (total or counts[5] or counts[6] or counts[7]):
                continue  # an empty usage object ({}): nothing was billed
            rank = (0 if sidechain else SIDECHAIN_RANK) + total
            if old is None:
                best[key] = [rank, rec, obj, msg, counts, 1, usage, sidechain]
            elif rank > old[0]:
                best[key] = [rank, rec, obj, msg, counts, old[5] + 1, usage, sidechain]
            else:
                old[5] += 1
        for rank, rec, obj, msg, counts, copies, _, _ in best.values():
            try:
                yield self._event(rec, obj, msg, counts, rank, copies)
            except ValidationError as e:
                yield Problem(path=rec.path, offset=rec.pos, kind="schema", reason=render_validation(e), length=len(rec.raw))

    def _event(self, rec: Record, obj: dict[str, Any], msg: dict[str, Any], counts: tuple[int, ...], rank: int, copies: int) -> Event:
        inp, out, cr, cw5, cw1h, web_search, web_fetch, reasoning = counts
        get = obj.get
        model = msg["model"]
        # The _str() rule (a non-empty string, else None) written out: this runs once per event.
        message_id, request_id = msg.get("id"), get("requestId")
        message_id = message_id if type(message_id) is str and message_id else None
        request_id = request_id if type(request_id) is str and request_id else None
        if message_id:
            event_id = make_id("claude", message_id, request_id or "")
        else:
            # Without a message id nothing can be deduplicated; the line itself is the key.
            event_id = make_id("claude-line", _str(get("uuid")) or f"{rec.path}:{rec.pos}")
        session_id, cwd, agent_id, speed = get("sessionId"), get("cwd"), get("agentId"), msg["usage"].get("speed")
        return validate_event(
            {
                "event_id": event_id,
                "tool": self.name,
                "provider": infer_provider(model, "anthropic", message_id),
                "model": model,
                "ts": obj["timestamp"],
                "session_id": session_id if type(session_id) is str and session_id else None,
                "project": cwd if type(cwd) is str and cwd else None,
                "is_sidechain": get("isSidechain") is True,
                "agent_id": agent_id if type(agent_id) is str and agent_id else None,
                "message_id": message_id,
                "request_id": request_id,
                "input_tokens": inp,
                "output_tokens": out,
                "cache_read_tokens": cr,
                "cache_write_5m_tokens": cw5,
                "cache_write_1h_tokens": cw1h,
                "reasoning_tokens": reasoning,
                "web_search_requests": web_search,
                "web_fetch_requests": web_fetch,
                "output_lower_bound": msg.get("stop_reason") is None,
                "speed": speed if type(speed) is str and speed else None,
                "source_path": rec.path,
                "source_offset": rec.pos,
                "rank": rank,
                "copies": copies,
            }
        )


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _counts(usage: dict[str, Any]) -> tuple[int, int, int, int, int, int, int, int]:
    """(input, output, cache_read, cache_write_5m, cache_write_1h, web_search, web_fetch, reasoning)."""
    get = usage.get
    # ``type(v) is int`` is the common case (bools excluded); anything else goes through as_int.
    inp = get("input_tokens")
    out = get("output_tokens")
    cr = get("cache_read_input_tokens")
    cache_total = get("cache_creation_input_tokens")
    if not (type(inp) is int and type(out) is int and type(cr) is int and type(cache_total) is int):
        inp, out, cr, cache_total = as_int(inp), as_int(out), as_int(cr), as_int(cache_total)
    split = get("cache_creation")
    if type(split) is dict:
        cw5 = split.get("ephemeral_5m_input_tokens")
        cw1h = split.get("ephemeral_1h_input_tokens")
        if not (type(cw5) is int and type(cw1h) is int):
            cw5, cw1h = as_int(cw5), as_int(cw1h)
        # The split is what is priced; an unexplained remainder is billed at the 5m rate.
        if cache_total > cw5 + cw1h:
            cw5 += cache_total - cw5 - cw1h
    else:
        cw5, cw1h = cache_total, 0
    server = get("server_tool_use")
    web_search = web_fetch = 0
    if type(server) is dict:
        web_search = as_int(server.get("web_search_requests"))
        web_fetch = as_int(server.get("web_fetch_requests"))
    details = get("output_tokens_details")
    reasoning = as_int(details.get("thinking_tokens")) if type(details) is dict else 0
    if inp < 0 or out < 0 or cr < 0 or cw5 < 0 or cw1h < 0 or web_search < 0 or web_fetch < 0 or reasoning < 0:
        raise ValueError("usage: negative token count")
    return (inp, out, cr, cw5, cw1h, web_search, web_fetch, reasoning)


def _is_limit_notice(obj: dict[str, Any]) -> bool:
    """Whether ``claude_limit_snapshots`` can find anything in a parsed line: limit notices are
    assistant lines (FORMATS.md 1.7) with a ``quotaLimits`` object or a ``<synthetic>`` model."""
    if obj.get("type", "assistant") != "assistant":
        return False  # the fast path never parses user, progress or system lines
    msg = obj.get("message")
    return "quotaLimits" in obj or (type(msg) is dict and ("quotaLimits" in msg or msg.get("model") == "<synthetic>"))


def _limit_snapshots(rec: Record) -> list[QuotaSnapshot]:
    """Quota readings in a limit notice (FORMATS.md 1.7); a line that does not parse is left to
    the main loop, which reports it."""
    try:
        obj = loads(rec.raw)
    except ValueError:
        return []
    return claude_limit_snapshots(obj, rec.path, rec.pos) if isinstance(obj, dict) and _is_limit_notice(obj) else []


TYPE_SNIFF = 4096  # where in a line the top-level "type" key is looked for


def _billable_lines(path: str, base: int, data: bytes) -> list[Record] | None:
    """The complete lines of ``data`` that may be billed calls, with their offsets; None when a
    line is not shaped like a JSON object (then the caller parses every line, to report it).

    A line is skipped unparsed when its top-level ``type`` is visible in its first bytes and is
    not "assistant" (user lines with tool results, progress echoes: most of the bytes; see
    ``base.typed_lines``). Claude Code writes the type before the message on user and progress
    lines and after it on assistant lines, where the first '"type":"' is the nested message
    type: those lines are handed on.
    """
    return typed_lines(path, base, data, keep_only=b"assistant", within=TYPE_SNIFF)
