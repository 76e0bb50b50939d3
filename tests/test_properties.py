"""Hypothesis properties of the Claude Code parser and the tail reader.

1. arbitrary bytes never raise, and only Event/Problem values come out;
2. a file read as two appends cut at any byte gives the same events as one read;
3. re-parsing gives the same event ids.
"""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.models import Event, Problem, QuotaSnapshot
from logscan.sources.parsers.claude_code import ClaudeCodeParser
from logscan.sources.reader import complete_blocks, records

REAL = Path(__file__).parent / "fixtures" / "claude-code" / "real"
TRAPS = Path(__file__).parent / "fixtures" / "claude-code" / "traps" / "projects" / "-home-u-proj"
SAMPLE = (REAL / "spotter_tool_heavy_v2.1.38.jsonl").read_bytes() + (TRAPS / "s1.jsonl").read_bytes() + (TRAPS / "s2-resumed.jsonl").read_bytes()
PARSER = ClaudeCodeParser()


def read_from(data: bytes, offset: int, fast: bool = True) -> tuple[list[Event | Problem], int]:
    """What the ingest does: complete lines from offset on; returns items and the new offset.
    ``fast`` uses the parser's block reader (as the ingest does), else line by line."""
    out: list[Event | Problem] = []
    for base, block in complete_blocks(io.BytesIO(data), offset, chunk=4096):
        if fast:
            out.extend(PARSER.parse_block("f.jsonl", base, block, {}))
        else:
            out.extend(PARSER.parse(records("f.jsonl", base, block), {}))
        offset = base + len(block)
    return out, offset


def merged(items: list[Event | Problem]) -> dict[int, tuple[object, ...]]:
    """The store's rule: one row per event_id, the highest rank wins, ties keep the first."""
    best: dict[int, Event] = {}
    for it in items:
        if isinstance(it, Event) and (it.event_id not in best or it.rank > best[it.event_id].rank):
            best[it.event_id] = it
    return {k: (e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.model) for k, e in best.items()}


def problems(items: list[Event | Problem]) -> set[tuple[int, str]]:
    return {(p.offset, p.kind) for p in items if isinstance(p, Problem)}


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    out = list(PARSER.parse(records("f.jsonl", 0, data + b"\n"), {}))
    assert all(isinstance(x, (Event, Problem)) for x in out)


@given(st.lists(st.sampled_from([b'{"type":"assistant","message":{"usage":', b'"usage"', b"{", b"}", b"\n", b'"model":"x"', b"\xff", b"[1]", b'"\\ud83d"', b'{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":-5}}}']), max_size=30))
@settings(max_examples=300, deadline=None)
def test_json_like_fragments_never_raise(parts: list[bytes]) -> None:
    out = list(PARSER.parse(records("f.jsonl", 0, b"".join(parts) + b"\n"), {}))
    assert all(isinstance(x, (Event, Problem)) for x in out)


@given(st.integers(min_value=0, max_value=len(SAMPLE)), st.booleans())
@settings(max_examples=300, deadline=None)
def test_split_at_any_byte_gives_same_events(cut: int, fast: bool) -> None:
    whole, end = read_from(SAMPLE, 0, fast=False)
    first, offset = read_from(SAMPLE[:cut], 0, fast)  # the file as it was at the first read
    second, end2 = read_from(SAMPLE, offset, fast)  # then the rest was appended
    assert end2 == end == len(SAMPLE)
    assert merged(first + second) == merged(whole)
    assert problems(first + second) == problems(whole)


CLEAN = (REAL / "spotter_tool_heavy_v2.1.38.jsonl").read_bytes() + (TRAPS / "s1.jsonl").read_bytes()


@given(st.integers(min_value=0, max_value=len(CLEAN)))
@settings(max_examples=150, deadline=None)
def test_block_reader_equals_line_reader_on_well_formed_files(cut: int) -> None:
    # CLEAN has only well-shaped lines, so parse_block takes its fast path (usage lines only)
    a, _ = read_from(CLEAN[:cut] + CLEAN[cut:], 0, fast=True)
    b, _ = read_from(CLEAN, 0, fast=False)
    assert merged(a) == merged(b) and problems(a) == problems(b) == set()


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    line = b'{"type":"assistant","usage":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    out = list(PARSER.parse(records("f.jsonl", 0, line + b"\n"), {}))
    assert [p.kind for p in out if isinstance(p, Problem)] == ["invalid-json"]


def test_reparse_gives_same_ids() -> None:
    a, _ = read_from(SAMPLE, 0)
    b, _ = read_from(SAMPLE, 0)
    assert [e.event_id for e in a if isinstance(e, Event)] == [e.event_id for e in b if isinstance(e, Event)]
    assert len(merged(a)) > 5


# -- the fast path's line selection (parse_block) equals parsing every line ---------------------
_USAGE = st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 50), "output_tokens": st.integers(0, 50)},
    optional={"cache_read_input_tokens": st.integers(0, 50)},
)
_NESTED = st.sampled_from([{"type": "user"}, {"type": "assistant", "usage": {"input_tokens": 7}}, {"x": [{"type": "progress"}]}, {}])


@st.composite
def transcript_line(draw: st.DrawFn) -> bytes:
    """An object line with the top-level "type" placed before or after nested objects whose own
    "type" keys lie, a key that merely contains "type", and usage at either depth."""
    import orjson

    n = draw(st.integers(0, 10_000))
    msg: dict[str, object] = {"id": f"msg_{n % 7}", "model": draw(st.sampled_from(["claude-x", "claude-x", "<synthetic>"]))}
    if draw(st.booleans()):
        msg["content"] = [draw(_NESTED)]
    if draw(st.integers(0, 3)):
        msg["usage"] = draw(_USAGE)
    top = draw(st.sampled_from(["assistant", "assistant", "user", "progress", "assistantx", 'assistant"']))
    fields: dict[str, object] = {"message": msg, "requestId": f"req_{n % 5}", "timestamp": "2026-01-01T00:00:00Z"}
    if msg["model"] == "<synthetic>" and draw(st.booleans()):
        msg["content"] = [{"type": "text", "text": "You've hit your session limit \u00b7 resets 2pm (Europe/Helsinki)"}]
    limit = {"status": "rejected", "resetsAt": 1790161200, "rateLimitType": "five_hour"}
    for key, value in (('k"type', "user"), ("xtype", "user"), ("data", {"message": {"type": "assistant", "message": msg}}), ("quotaLimits", limit)):
        if draw(st.integers(0, 3)) == 0:
            fields[key] = value
    order = draw(st.permutations([*fields, "type"]))
    fields["type"] = top
    return orjson.dumps({k: fields[k] for k in order})


@given(st.lists(transcript_line(), max_size=12))
@settings(max_examples=300, deadline=None)
def test_fast_path_selects_every_billable_line(lines: list[bytes]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    fast = list(PARSER.parse_block("f.jsonl", 0, data, {}))
    full = list(PARSER.parse(records("f.jsonl", 0, data), {}))
    assert merged(fast) == merged(full)
    assert problems(fast) == problems(full)
    assert [x for x in fast if isinstance(x, QuotaSnapshot)] == [x for x in full if isinstance(x, QuotaSnapshot)]
