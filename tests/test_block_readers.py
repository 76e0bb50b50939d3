"""The block readers (``parse_block``) of the JSONL parsers against their line readers
(``parse`` over every line): the same events, quota readings and problems for every fixture,
read in blocks cut anywhere; and ``base.typed_lines``, which leaves out the lines whose
top-level type says they carry no usage, without splitting the block."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscan.models import Event, Problem, QuotaSnapshot
from logscan.sources.parsers.base import typed_lines
from logscan.sources.parsers.claude_code import ClaudeCodeParser
from logscan.sources.parsers.codex import CodexParser
from logscan.sources.parsers.gemini import GeminiParser
from logscan.sources.reader import complete_blocks, records

FIX = Path(__file__).parent / "fixtures"
CASES = [
    (CodexParser(), sorted((FIX / "codex").rglob("*.jsonl"))),
    (GeminiParser(), sorted((FIX / "gemini").rglob("*.jsonl"))),
    (ClaudeCodeParser(), sorted((FIX / "claude-code").rglob("*.jsonl"))[:12]),
]


def read(parser: Any, path: Path, data: bytes, chunk: int, fast: bool) -> tuple[dict[int, Event], list[Any], list[Any]]:
    """What the ingest does with one file: complete blocks, one state carried across them."""
    state: dict[str, Any] = {}
    out: list[Any] = []
    for base, block in complete_blocks(io.BytesIO(data), 0, chunk=chunk):
        if fast:
            out.extend(parser.parse_block(str(path), base, block, state))
        else:
            out.extend(parser.parse(records(str(path), base, block), state))
    events: dict[int, Event] = {}
    for e in out:
        if isinstance(e, Event) and (e.event_id not in events or e.rank > events[e.event_id].rank):
            events[e.event_id] = e
    snaps = sorted((s.snapshot_id for s in out if isinstance(s, QuotaSnapshot)))
    probs = sorted((p.offset, p.kind, p.reason) for p in out if isinstance(p, Problem))
    return events, snaps, probs


@pytest.mark.parametrize("parser,files", CASES, ids=lambda c: getattr(c, "name", ""))
def test_block_reader_equals_line_reader_on_every_fixture(parser: Any, files: list[Path]) -> None:
    assert files
    seen = 0
    for path in files:
        data = path.read_bytes()
        for chunk in (1 << 20, 4096):
            assert read(parser, path, data, chunk, True) == read(parser, path, data, chunk, False), (path, chunk)
        seen += len(read(parser, path, data, 1 << 20, True)[0])
    assert seen > 0  # the fixtures do hold billed calls


@pytest.mark.parametrize("parser,files", CASES[:2], ids=lambda c: getattr(c, "name", ""))
def test_a_malformed_line_is_reported_by_the_block_reader_too(parser: Any, files: list[Path]) -> None:
    data = max(files, key=lambda p: p.stat().st_size).read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    broken = data[:cut] + b'{"type":"event_msg","payload":{"type":"token_count" garbage\nnot json at all\n' + data[cut:]
    fast = read(parser, Path("f.jsonl"), broken, 1 << 20, True)
    assert fast == read(parser, Path("f.jsonl"), broken, 1 << 20, False)
    assert [p[0] for p in fast[2]].count(cut + len(b'{"type":"event_msg","payload":{"type":"token_count" garbage\n')) == 1


@given(st.integers(min_value=1, max_value=64 * 1024))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_blocks_cut_anywhere_give_the_line_readers_result(chunk: int) -> None:
    for parser, files in CASES[:2]:
        path = max(files, key=lambda p: p.stat().st_size)
        data = path.read_bytes()
        fast = read(parser, path, data, chunk, True)
        assert fast == read(parser, path, data, chunk, False)
        # and, apart from how many copies each block saw, what one whole read gives
        whole = read(parser, path, data, 1 << 20, False)
        assert {k: e.model_copy(update={"copies": 1}) for k, e in fast[0].items()} == {k: e.model_copy(update={"copies": 1}) for k, e in whole[0].items()}
        assert fast[1:] == whole[1:]


def test_typed_lines_leaves_out_only_visible_top_level_types() -> None:
    lines = [
        b'{"type":"user","message":{"type":"assistant","usage":{}}}',  # top-level user: left out
        b'{"message":{"type":"user"},"type":"assistant"}',  # first "type" is nested: handed on
        b'{"uuid":"u","type":"progress","data":1}',  # after a ",": top level, left out
        b'{"type":"' + b"x" * 100 + b'"}',  # value too long to read: handed on
        b'{"payload":{},"type":"user"}',  # a "{" before it: cannot tell, handed on
        b'{"a":1}',  # no type: handed on
    ]
    data = b"\n".join(lines) + b"\n" + b'{"type":"user","partial'
    got = typed_lines("f", 100, data, skip=frozenset({b"user", b"progress"}))
    assert got is not None
    assert [r.raw for r in got] == [lines[1], lines[3], lines[4], lines[5]]
    assert [r.pos for r in got] == [100 + data.index(x) for x in (lines[1], lines[3], lines[4], lines[5])]
    only = typed_lines("f", 0, data, keep_only=b"assistant")
    assert only is not None and [r.raw for r in only] == [lines[1], lines[3], lines[4], lines[5]]
    # The type must be within the first ``within`` bytes to count.
    late = b'{"pad":"' + b"p" * 600 + b'","type":"user"}\n'
    assert [r.raw for r in typed_lines("f", 0, late, skip=frozenset({b"user"})) or []] == [late[:-1]]
    assert typed_lines("f", 0, late, skip=frozenset({b"user"}), within=4096) == []


@pytest.mark.parametrize("bad", [b"\n", b"[1]\n", b'{"a":1} \n', b' {"a":1}\n', b'{"a":1}\r\n', b"garbage\n"])
def test_typed_lines_gives_up_on_a_line_not_shaped_like_an_object(bad: bytes) -> None:
    assert typed_lines("f", 0, b'{"type":"user"}\n' + bad + b'{"type":"assistant"}\n', skip=frozenset({b"user"})) is None
