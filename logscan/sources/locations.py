"""Where each assistant keeps its logs, and which file endings the readers open: plain data and
path arithmetic, importable without the parsers (and so without pydantic), for the walk that
finds the files and for the no-change check of ``logscan backfill``.

The parsers take their ``default_roots()`` and ``extensions`` from here, so there is one
definition of each. Roots honour the tools' own variables (``CLAUDE_CONFIG_DIR``,
``CODEX_HOME``, ``GEMINI_CLI_HOME``, ``XDG_DATA_HOME``) as the tools do.
"""

from __future__ import annotations

import os
from pathlib import Path

from logscan.paths import home, xdg_config_home, xdg_data_home

# File endings each parser's reader opens (by parser name).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "claude-code": (".jsonl",),
    "codex": (".jsonl", ".jsonl.zst"),
    "gemini": (".jsonl",),
    "gemini-legacy": (".json",),
    "opencode": (".db", ".json"),
}
ANY_EXTENSION = tuple(sorted({e for exts in EXTENSIONS.values() for e in exts}))
# Parsers whose reader is "sqlite": a database's identity includes its -wal (see plan.identity).
SQLITE_TOOLS = frozenset({"opencode"})


def readable(path: str) -> bool:
    """Whether some parser's reader opens a file with this name at all (the walk's filter)."""
    return path.endswith(ANY_EXTENSION)


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


def codex_homes() -> list[Path]:
    """``$CODEX_HOME`` (a comma-separated list is accepted, for several homes) or ``~/.codex``."""
    env = os.environ.get("CODEX_HOME", "").strip()
    homes = [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()] if env else []
    return homes or [home() / ".codex"]


def codex_roots() -> list[Path]:
    return [h / sub for h in codex_homes() for sub in ("sessions", "archived_sessions")]


def gemini_home() -> Path:
    """``$GEMINI_CLI_HOME/.gemini`` (the variable replaces the home directory) or ``~/.gemini``."""
    env = os.environ.get("GEMINI_CLI_HOME", "").strip()
    return (Path(env).expanduser() if env else home()) / ".gemini"


def gemini_roots() -> list[Path]:
    return [gemini_home() / "tmp"]


def opencode_root() -> Path:
    return xdg_data_home() / "opencode"


def opencode_roots() -> list[Path]:
    base = opencode_root()
    # Not the whole data directory: it also holds git snapshots (many files) and auth.json.
    dbs = [base / "opencode.db", *sorted(base.glob("opencode-*.db"))] if base.is_dir() else [base / "opencode.db"]
    return [*dbs, base / "storage"]


# Each parser's roots, in the registry's order (gemini-legacy reads the same tree as gemini).
ROOTS = {
    "claude-code": claude_roots,
    "codex": codex_roots,
    "gemini": gemini_roots,
    "gemini-legacy": gemini_roots,
    "opencode": opencode_roots,
}


def default_roots() -> list[Path]:
    """Every known location on this machine, each once, in the registry's order."""
    roots: list[Path] = []
    for fn in ROOTS.values():
        for r in fn():
            if r not in roots:
                roots.append(r)
    return roots
