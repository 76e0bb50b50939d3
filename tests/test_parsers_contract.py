"""Every registered parser honours the protocol (pygments' test_lexer_classes idea)."""

from __future__ import annotations

import re

import pytest

from logscan.models import Event, Problem, Record
from logscan.sources.parsers import PARSERS, get_parser, parser_for
from logscan.errors import UnknownParser


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parser_contract(name: str) -> None:
    p = PARSERS[name]
    assert re.fullmatch(r"[a-z][a-z0-9-]*", p.name), "parser names are lowercase ids"
    assert isinstance(p.version, int) and p.version >= 1
    assert p.reader in {"jsonl", "json", "sqlite"}
    assert p.patterns and all(isinstance(x, str) for x in p.patterns)
    for head in (b"", b"\x00junk", b"{}", b"not json\n"):
        score = p.sniff(head)
        assert 0.0 <= score <= 1.0
    roots = p.default_roots()
    assert isinstance(roots, list)
    # garbage in: only events and problems out, never an exception
    out = list(p.parse([Record("/x/y.jsonl", 0, b"\x00\xff garbage"), Record("/x/y.jsonl", 12, b"{}")], {}))
    assert all(isinstance(x, (Event, Problem)) or type(x).__name__.endswith("Snapshot") for x in out)


def test_unknown_parser_names_the_known_ones() -> None:
    with pytest.raises(UnknownParser, match="claude-code"):
        get_parser("nope")


def test_claude_file_detected_outside_projects_by_content() -> None:
    head = b'{"parentUuid":null,"isSidechain":false,"type":"user","sessionId":"s"}\n'
    p = parser_for("/somewhere/else/s.jsonl", head)
    assert p is not None and p.name == "claude-code"
    assert parser_for("/somewhere/else/notes.jsonl", b'{"a":1}\n') is None
