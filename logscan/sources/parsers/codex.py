"""Codex CLI rollouts (FORMATS.md section 3).

A rollout is JSONL: ``{"timestamp", "type", "payload"}`` per line, under
``$CODEX_HOME/sessions/`` (``YYYY/MM/DD/`` or flat) and ``$CODEX_HOME/archived_sessions/``, as
``.jsonl`` or zstd-compressed ``.jsonl.zst`` (the reader decompresses; the ingest skips a
``.zst`` whose plain sibling exists). Billed usage lives only in ``event_msg`` / ``token_count``
lines: ``info.total_token_usage`` is cumulative for the thread, ``info.last_token_usage`` is the
latest model call. The model comes from the latest ``turn_context`` (or ``info.model`` when a
build puts it there); ``session_meta`` gives the thread id, cwd, provider and lineage.

Usage of one ``token_count`` (all in ``_token_count``, the one place a rate-limit hook belongs):

- Δ = total - previous total, per component (input, cached, output, reasoning).
- Δ all zero: a re-emission (rate-limit refresh, duplicate event): no event.
- No previous total (first event of the file) or any component negative (a drop after
  compaction or a resume edge case): use ``last_token_usage`` and take ``total`` as the new
  baseline.
- No ``total_token_usage`` at all: use ``last``; such a row cannot be matched across files, so
  its id is (root, generation, previous total, last, timestamp).
- OpenAI semantics to disjoint buckets: ``input_tokens = input - cached`` (cached clamped to
  input), ``cache_read_tokens = cached``, ``output_tokens = output`` (it includes reasoning),
  ``reasoning_tokens = reasoning`` (informational). Codex reports no cache writes.

Event ids: ``make_id("codex", root, generation, total)``, where ``total`` is the row's
cumulative (input, cached, output, reasoning) tuple, ``root`` the oldest thread of the fork
family this file can name, and ``generation`` the number of drops (new baselines) seen so far
in the file. An id therefore names "the call that brought the family's thread to exactly this
total".

- A fork (``forked_from_id``) or a ``thread_spawn`` subagent file begins with a copy of the
  parent's history: its ``session_meta`` and its ``token_count`` rows (with new timestamps).
  Codex copies ``session_meta`` items as they are, so a fork's file names its parent, and the
  parent's copied ``session_meta`` names the grandparent, and so on: ``lineage`` follows these
  links (the first ``session_meta`` is the file's own thread; a later one of the last-known
  ancestor adds that ancestor's parent). Copied rows get the ids of the originals, and the
  store's MERGE keeps one; the child's own calls continue from the copied total and get new ids.
- Forks of forks: the grandchild copies the child's history, which holds the root's
  ``session_meta`` and rows, so it resolves the same root. (Without copied ``session_meta``
  lines, as in sanitized fixtures, a first-level fork still resolves: its ``forked_from_id`` is
  the root. A deeper fork without them would not; that is the limit of a per-file parser.)
- A child read before its parent, ``sessions/`` vs ``archived_sessions/``, ``.jsonl`` vs
  ``.jsonl.zst``, several ``CODEX_HOME``s: the same rows give the same ids in any order.
- Unrelated threads never share ids, even with identical usage: their roots differ.
- Lineage is complete before the first ``token_count``: copied ``session_meta`` lines come at
  the start of the copied history. A file without any ``session_meta`` uses the uuid at the end
  of its name, else its base name (the same rollout keeps its name when archived or compressed).
- ``generation`` keeps a total reached again after a drop distinct from the first time it was
  reached; a copy replays the same drops, so it counts the same generations.

State (JSON, persisted with the offset): thread id, lineage, sidechain flag, cwd, current model,
provider, the previous total and the generation, so a restart mid-file resumes exactly.

The legacy format (before about Aug 2025: a bare meta object, ``{"record_type":"state"}``, then
unwrapped items) has no token counts: it yields no events and no problems.
"""

from __future__ import annotations

from datetime import datetime, timezone

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from logscan.models import Event, Problem, QuotaSnapshot, Record, make_id, new_event
from logscan.sources.parsers.base import as_int, load_object, render_validation, schema_problem, top_level_type, typed_lines
from logscan.sources.reader import records
from logscan.sources.locations import EXTENSIONS, codex_roots
from logscan.pricing import infer_provider
from logscan.quota.ratelimits import codex_rate_limits

RANK_TOP = 1000  # rank of a row from a thread with no parent; each fork level subtracts 1
UNKNOWN_MODEL = "unknown"  # a token_count before any model is known: priced as unknown_model
# Only these lines are parsed; every other line is shape-checked (most bytes are response items).
_RESPONSE_ITEM = frozenset({b"response_item"})
_INTERESTING = (b'"token_count"', b'"turn_context"', b'"session_meta"', b'"cli_version"', b'"thread.started"')
_UUID_AT_END = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.jsonl(?:\.zst)?$")
_COMPONENTS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
EXEC_JSON_TYPES = frozenset({"thread.started", "turn.started", "turn.completed", "turn.failed", "item.started", "item.updated", "item.completed"})


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _usage(u: Any, where: str) -> list[int] | None:
    """A TokenUsage object as [input, cached, output, reasoning], or None when absent."""
    if u is None:
        return None
    if not isinstance(u, dict):
        raise ValueError(f"{where}: expected an object")
    out = [as_int(u.get(k)) for k in _COMPONENTS]
    if any(x < 0 for x in out):
        raise ValueError(f"{where}: negative token count")
    return out


class CodexParser:
    name: ClassVar[str] = "codex"
    version: ClassVar[int] = 1
    reader: ClassVar[Literal["jsonl"]] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = EXTENSIONS["codex"]
    patterns: ClassVar[tuple[str, ...]] = (
        "*/sessions/*.jsonl",
        "*/sessions/*.jsonl.zst",
        "*/archived_sessions/*.jsonl",
        "*/archived_sessions/*.jsonl.zst",
    )

    def default_roots(self) -> list[Path]:
        return codex_roots()

    def sniff(self, head: bytes) -> float:
        first = head[:2000]
        if b'"type":"session_meta"' in first or b'"type": "session_meta"' in first:
            return 1.0
        if b'"payload"' in first and (b'"turn_context"' in first or b'"event_msg"' in first or b'"response_item"' in first):
            return 0.9
        if b'"originator"' in first and b'"cli_version"' in first:
            return 0.8  # the legacy bare meta line
        if b'"thread.started"' in first or b'"turn.completed"' in first:
            return 0.7  # `codex exec --json` output saved where rollouts live: claimed, reported
        return 0.0

    # -- parsing ------------------------------------------------------------------------
    def parse_block(self, path: str, base: int, data: bytes, state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        """Parse a block of complete lines (what the ingest reads at once). Most bytes are
        response items (tool outputs): when every line is shaped like an object, those whose
        top-level type says so are left out without being split off or copied
        (``base.typed_lines``); otherwise every line goes through ``parse``, which reports the
        malformed ones."""
        lines = typed_lines(path, base, data, skip=_RESPONSE_ITEM, within=256)
        if lines is None:
            return self.parse(records(path, base, data), state)
        return self._parse(lines, state)

    def parse(self, records: Iterable[Record], state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        return self._parse(records, state, sniff=True)

    def _parse(self, records: Iterable[Record], state: dict[str, Any], sniff: bool = False) -> Iterator[Event | Problem | QuotaSnapshot]:
        """``sniff``: response items are still among the records (not left out by
        ``parse_block``) and are told apart here, by the same top-level type."""
        for rec in records:
            raw = rec.raw
            # Most bytes are response items (tool outputs): their top-level type, read from the
            # line's first bytes, says so without searching the whole line for the markers. A
            # '"type":"' directly after the opening "{" or a "," with no "{" before it is a
            # top-level key (a quote inside a string is escaped), as in the Claude fast path.
            wanted = (not sniff or top_level_type(raw, 256) != b"response_item") and any(k in raw for k in _INTERESTING)
            obj = load_object(rec, wanted)
            if not isinstance(obj, dict):
                if obj is not None:
                    yield obj
                continue
            kind = obj.get("type")
            payload = obj.get("payload")
            if not isinstance(payload, dict):
                if "type" not in obj and "cli_version" in obj:
                    self._session_meta(rec, obj, state)  # legacy bare meta line
                elif isinstance(kind, str) and kind in EXEC_JSON_TYPES and not state.get("exec_json"):
                    # `codex exec --json` events: usage per turn, and the same calls are in the
                    # rollout Codex writes for that run; counting both would double count.
                    state["exec_json"] = True
                    yield Problem(path=rec.path, offset=rec.pos, kind="unsupported",
                                  reason="`codex exec --json` output (per-turn usage; the same calls are in Codex's own rollout file): not counted")
                continue
            if kind == "session_meta":
                self._session_meta(rec, payload, state)
            elif kind == "turn_context":
                if m := _str(payload.get("model")):
                    state["model"] = m
                if cwd := _str(payload.get("cwd")):
                    state["cwd"] = cwd
            elif kind == "event_msg" and payload.get("type") == "token_count":
                yield from self._token_count(rec, obj, payload, state)

    def _session_meta(self, rec: Record, meta: dict[str, Any], state: dict[str, Any]) -> None:
        tid = _str(meta.get("id"))
        source = meta.get("source")
        sub = None
        if isinstance(source, dict):
            sub = source.get("subagent", source.get("subAgent"))
        spawn = sub.get("thread_spawn", sub.get("threadSpawn")) if isinstance(sub, dict) else None
        parent = _str(meta.get("forked_from_id")) or (_str(spawn.get("parent_thread_id")) if isinstance(spawn, dict) else None)
        if "thread" not in state:
            # The file's first session_meta is its own thread.
            m = _UUID_AT_END.search(rec.path)
            state["thread"] = tid or (m.group(1) if m else None)
            state["lineage"] = [x for x in (state["thread"], parent) if x]
            state["depth"] = 1 if parent else 0
            state["side"] = sub is not None
            if cwd := _str(meta.get("cwd")):
                state["cwd"] = cwd
            if mp := _str(meta.get("model_provider")):
                state["provider"] = mp.lower()
            if m2 := _str(meta.get("model")):
                state.setdefault("model", m2)
            return
        # A later session_meta of another thread is part of a copied history: it names one more
        # ancestor when it is the last one we know of.
        lineage = state.get("lineage") or []
        if tid and parent and lineage and tid == lineage[-1] and parent not in lineage:
            lineage.append(parent)
            state["lineage"] = lineage
            state["depth"] = len(lineage) - 1

    @staticmethod
    def _root(rec: Record, state: dict[str, Any]) -> str:
        """The oldest thread of this file's fork family that the file names."""
        lineage = state.get("lineage")
        if lineage:
            return str(lineage[-1])
        name = rec.path.replace("\\", "/").rsplit("/", 1)[-1]
        return _thread_from_path(rec.path) or name.removesuffix(".zst")

    def _token_count(self, rec: Record, obj: dict[str, Any], payload: dict[str, Any], state: dict[str, Any]) -> Iterator[Event | Problem | QuotaSnapshot]:
        """One ``token_count`` line. ``info: null`` (the rate-limit-only event before the first
        call) carries no usage."""
        # Quota readings (FORMATS.md 3.3, every version; windows by window_minutes, relative
        # resets from this line's timestamp).
        yield from codex_rate_limits(payload.get("rate_limits"), obj.get("timestamp"), path=rec.path, offset=rec.pos)
        info = payload.get("info")
        if info is None:
            return
        if not isinstance(info, dict):
            yield schema_problem(rec, "payload.info: expected an object or null")
            return
        try:
            total = _usage(info.get("total_token_usage"), "info.total_token_usage")
            last = _usage(info.get("last_token_usage"), "info.last_token_usage")
        except ValueError as e:
            yield schema_problem(rec, str(e))
            return
        prev: list[int] | None = state.get("prev")
        gen: int = state.get("gen", 0)
        root = self._root(rec, state)
        if total is None:
            if last is None:
                return
            usage = last
            event_id = make_id("codex-last", root, gen, *(prev or ()), *last, obj.get("timestamp"))
        else:
            if prev is not None and total == prev:
                return  # re-emitted with an unchanged total: not a new call
            delta = None if prev is None else [t - p for t, p in zip(total, prev)]
            if delta is None or any(d < 0 for d in delta):
                usage = last if last is not None else total  # first event, or a new baseline
                if delta is not None:
                    gen += 1
            else:
                usage = delta
            event_id = make_id("codex", root, gen, *total)
            # The baseline moves even if this row turns out unusable below, so the next delta
            # is still the next call alone.
            state["prev"] = total
            state["gen"] = gen
        inp, cached, out, reasoning = usage
        cached = min(cached, inp)
        if inp == 0 and out == 0 and reasoning == 0:
            return
        model = _str(info.get("model")) or _str(info.get("model_name")) or _str(payload.get("model")) or state.get("model") or UNKNOWN_MODEL
        mp = state.get("provider")
        provider = infer_provider(model, "openai") if mp in (None, "openai") else mp
        try:
            ts = obj.get("timestamp")
            if isinstance(ts, (int, float)) and not isinstance(ts, bool) and ts > 0:
                # epoch milliseconds (seconds when small), as some writers store it
                ts = datetime.fromtimestamp(ts / 1000 if ts > 1e11 else ts, timezone.utc).isoformat()
            if not isinstance(ts, str):
                raise ValueError("timestamp: missing on a token_count line")
            yield new_event(
                event_id=event_id,
                tool=self.name,
                provider=provider,
                model=model,
                ts=ts,  # type: ignore[arg-type]  # pydantic parses ISO-8601
                session_id=state.get("thread") or _thread_from_path(rec.path),
                project=state.get("cwd"),
                is_sidechain=bool(state.get("side")),
                input_tokens=inp - cached,
                cache_read_tokens=cached,
                output_tokens=out,
                reasoning_tokens=reasoning,
                source_path=rec.path,
                source_offset=rec.pos,
                rank=RANK_TOP - min(int(state.get("depth", 0)), RANK_TOP),
            )
        except ValidationError as e:
            yield schema_problem(rec, render_validation(e))
        except (ValueError, TypeError) as e:
            yield schema_problem(rec, str(e))


def _thread_from_path(path: str) -> str | None:
    m = _UUID_AT_END.search(path)
    return m.group(1) if m else None
