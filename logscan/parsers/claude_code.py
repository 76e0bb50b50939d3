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

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from logscan.models import Event, Problem, QuotaSnapshot, Record, make_id
from logscan.parsers.base import as_int, load_object, loads
from logscan.reader import records
from logscan.paths import home, xdg_config_home
from logscan.pricing import infer_provider
from logscan.quota.ratelimits import claude_limit_snapshots

SIDECHAIN_RANK = 1 << 50  # a non-sidechain copy outranks any token total


def claude_roots() -> list[Path]:
    """``$CLAUDE_CONFIG_DIR`` (a comma-separated list is accepted) or ``~/.claude``, plus the
    ``~/.config/claude`` location Claude Code v1.0.30 briefly used."""
    env = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    roots = [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()] if env else []
    if not roots:
        roots = [home() / ".claude"]
    roots.append(xdg_config_home() / "claude")
    out: list[Path] = []
    for r in roots:
        p = r / "projects"
        if p not in out:
            out.append(p)
    return out


def render_validation(e: ValidationError) -> str:
    # include_input=False: a validation message must never carry the record's content.
    return "; ".join(
        f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors(include_input=False, include_url=False)
    )


class ClaudeCodeParser:
    name: ClassVar[str] = "claude-code"
    version: ClassVar[int] = 1
    reader: ClassVar[Literal["jsonl"]] = "jsonl"
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

        Most of a transcript's bytes are lines without usage. When every line of the block is
        shaped like an object (starts with "{", ends with "}"), only the lines around a
        '"usage"' hit are parsed; otherwise every line goes through ``parse`` so malformed ones
        are reported. Both scans run at memchr speed; no line is copied unless it has usage.
        """
        if _well_shaped(data):
            return self.parse(_usage_lines(path, base, data), state)
        return self.parse(records(path, base, data), state)

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        # Collapse the copies of one message within this batch (before building any Event);
        # the store applies the same rule across batches and files.
        best: dict[tuple[str, ...], list[Any]] = {}  # key -> [rank, rec, obj, msg, counts, copies]
        for rec in records:
            raw = rec.raw
            if b"<synthetic>" in raw or b"quotaLimits" in raw:
                yield from _limit_snapshots(rec)  # limit notices: quota readings, never billed
            # Most bytes are user/tool-result and progress lines: no usage, no parse (a line not
            # even shaped like an object is still reported).
            obj = load_object(rec, b'"usage"' in raw)
            if not isinstance(obj, dict):
                if obj is not None:
                    yield obj
                continue
            # Progress echoes (agent_progress) and Task results carry copies of usage deeper
            # down; only a top-level assistant message is a billed call.
            if obj.get("type") != "assistant":
                continue
            msg = obj.get("message")
            if not isinstance(msg, dict):
                continue
            usage = msg.get("usage")
            if not isinstance(usage, dict):
                continue
            model = msg.get("model")
            if model == "<synthetic>":
                continue  # made locally by Claude Code (errors, limit notices): nothing billed
            try:
                if not isinstance(model, str) or not model:
                    raise ValueError("message.model: missing on an assistant line with usage")
                if not isinstance(obj.get("timestamp"), str):
                    raise ValueError("timestamp: missing on an assistant line with usage")
                counts = _counts(usage)
            except (ValueError, TypeError) as e:
                yield Problem(path=rec.path, offset=rec.pos, kind="schema", reason=str(e)[:300], length=len(raw))
                continue
            if not any(counts):
                continue  # an empty usage object ({}): nothing was billed
            mid, rid = _str(msg.get("id")), _str(obj.get("requestId"))
            key = ("m", mid, rid or "") if mid else ("l", _str(obj.get("uuid")) or f"{rec.path}:{rec.pos}")
            sidechain = obj.get("isSidechain") is True
            rank = (0 if sidechain else SIDECHAIN_RANK) + sum(counts[:5])
            old = best.get(key)
            if old is None:
                best[key] = [rank, rec, obj, msg, counts, 1]
            elif rank > old[0]:
                best[key] = [rank, rec, obj, msg, counts, old[5] + 1]
            else:
                old[5] += 1
        for rank, rec, obj, msg, counts, copies in best.values():
            try:
                yield self._event(rec, obj, msg, counts, rank, copies)
            except ValidationError as e:
                yield Problem(path=rec.path, offset=rec.pos, kind="schema", reason=render_validation(e), length=len(rec.raw))

    def _event(self, rec: Record, obj: dict[str, Any], msg: dict[str, Any], counts: tuple[int, ...], rank: int, copies: int) -> Event:
        inp, out, cr, cw5, cw1h, web_search, web_fetch, reasoning = counts
        model = msg["model"]
        message_id, request_id = _str(msg.get("id")), _str(obj.get("requestId"))
        if message_id:
            event_id = make_id("claude", message_id, request_id or "")
        else:
            # Without a message id nothing can be deduplicated; the line itself is the key.
            event_id = make_id("claude-line", _str(obj.get("uuid")) or f"{rec.path}:{rec.pos}")
        usage = msg["usage"]
        return Event(
            event_id=event_id,
            tool=self.name,
            provider=infer_provider(model, "anthropic", message_id),
            model=model,
            ts=obj["timestamp"],
            session_id=_str(obj.get("sessionId")),
            project=_str(obj.get("cwd")),
            is_sidechain=obj.get("isSidechain") is True,
            agent_id=_str(obj.get("agentId")),
            message_id=message_id,
            request_id=request_id,
            input_tokens=inp,
            output_tokens=out,
            cache_read_tokens=cr,
            cache_write_5m_tokens=cw5,
            cache_write_1h_tokens=cw1h,
            reasoning_tokens=reasoning,
            web_search_requests=web_search,
            web_fetch_requests=web_fetch,
            output_lower_bound=msg.get("stop_reason") is None,
            speed=_str(usage.get("speed")),
            source_path=rec.path,
            source_offset=rec.pos,
            rank=rank,
            copies=copies,
        )


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _counts(usage: dict[str, Any]) -> tuple[int, int, int, int, int, int, int, int]:
    """(input, output, cache_read, cache_write_5m, cache_write_1h, web_search, web_fetch, reasoning)."""
    cache_total = as_int(usage.get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        cw5 = as_int(split.get("ephemeral_5m_input_tokens"))
        cw1h = as_int(split.get("ephemeral_1h_input_tokens"))
        # The split is what is priced; an unexplained remainder is billed at the 5m rate.
        if cache_total > cw5 + cw1h:
            cw5 += cache_total - cw5 - cw1h
    else:
        cw5, cw1h = cache_total, 0
    server = usage.get("server_tool_use")
    web_search = web_fetch = 0
    if isinstance(server, dict):
        web_search = as_int(server.get("web_search_requests"))
        web_fetch = as_int(server.get("web_fetch_requests"))
    details = usage.get("output_tokens_details")
    reasoning = as_int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    counts = (
        as_int(usage.get("input_tokens")),
        as_int(usage.get("output_tokens")),
        as_int(usage.get("cache_read_input_tokens")),
        cw5,
        cw1h,
        web_search,
        web_fetch,
        reasoning,
    )
    if any(c < 0 for c in counts):
        raise ValueError("usage: negative token count")
    return counts


def _well_shaped(data: bytes) -> bool:
    """True when every complete line in ``data`` starts with "{" and ends with "}"."""
    find = data.find
    pos = 0
    while True:
        end = find(b"\n", pos)
        if end < 0:
            return True
        if data[pos : pos + 1] != b"{" or data[end - 1 : end] != b"}":
            return False
        pos = end + 1


def _limit_snapshots(rec: Record) -> list[QuotaSnapshot]:
    """Quota readings in a limit notice (FORMATS.md 1.7); a line that does not parse is left to
    the main loop, which reports it."""
    try:
        obj = loads(rec.raw)
    except ValueError:
        return []
    return claude_limit_snapshots(obj, rec.path, rec.pos)


def _usage_lines(path: str, base: int, data: bytes) -> Iterator[Record]:
    """The complete lines of ``data`` that contain '"usage"', with their offsets."""
    find, rfind = data.find, data.rfind
    pos = 0
    while True:
        i = find(b'"usage"', pos)
        if i < 0:
            return
        start = rfind(b"\n", 0, i) + 1
        end = find(b"\n", i)
        yield Record(path, base + start, data[start:end])
        pos = end + 1
