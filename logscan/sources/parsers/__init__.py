"""The parser registry. Only this module imports parser modules.

Detection works like pygments: filename globs narrow the candidates, a content score
(``sniff``) decides, and a glob match adds 0.5.
"""

from __future__ import annotations

from logscan.errors import UnknownParser
from logscan.sources.locations import EXTENSIONS
from logscan.sources.parsers.base import Parser, matches
from logscan.sources.parsers.claude_code import ClaudeCodeParser
from logscan.sources.parsers.codex import CodexParser
from logscan.sources.parsers.gemini import GeminiLegacyParser, GeminiParser
from logscan.sources.parsers.opencode import OpenCodeParser

PARSERS: dict[str, Parser] = {p.name: p for p in (ClaudeCodeParser(), CodexParser(), GeminiParser(), GeminiLegacyParser(), OpenCodeParser())}


def get_parser(name: str) -> Parser:
    try:
        return PARSERS[name]
    except KeyError:
        raise UnknownParser(f"No parser named {name!r}. Known parsers: {', '.join(sorted(PARSERS))}.") from None


def candidates(path: str) -> list[Parser]:
    """Parsers whose reader can open this file at all (by extension)."""
    out = []
    for p in PARSERS.values():
        if path.endswith(EXTENSIONS[p.name]):
            out.append(p)
    return out


def parser_for(path: str, head: bytes) -> Parser | None:
    """The best parser for a file, or None when nothing claims it."""
    best: tuple[float, Parser] | None = None
    for p in candidates(path):
        by_name = matches(path, p.patterns)
        score = p.sniff(head)
        if not by_name and score < 0.5:
            continue
        total = score + (0.5 if by_name else 0.0)
        if best is None or total > best[0]:
            best = (total, p)
    return best[1] if best else None


__all__ = ["PARSERS", "Parser", "get_parser", "parser_for", "candidates"]
