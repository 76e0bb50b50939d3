"""Tool names: the ids stored in ``events.tool`` and the names people type for them.

``TOOLS`` are the ids the parsers (and imports) write. ``canonical`` maps what a user types on
any ``--tool`` option (``claude``, ``cc``, ``oc``, any case) to one of them, and refuses a name
that matches no tool with the list of valid names, so a filter can never silently match nothing
and a budget can never be set for a tool that does not exist.
"""

from __future__ import annotations

TOOLS = ("claude-code", "codex", "gemini", "opencode", "cursor")

ALIASES = {
    "claude": "claude-code",
    "cc": "claude-code",
    "claude_code": "claude-code",
    "claudecode": "claude-code",
    "codex-cli": "codex",
    "openai-codex": "codex",
    "gemini-cli": "gemini",
    "oc": "opencode",
    "open-code": "opencode",
}


def canonical(name: str) -> str:
    """The tool id for ``name`` (an id or an alias, any case); ``ValueError`` when there is none."""
    key = name.strip().lower()
    if key in TOOLS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise ValueError(f"unknown tool {name!r}; use one of {', '.join(TOOLS)} (or claude, cc, oc)")
