"""The package's shape, checked from the source text (README "Architecture"): no import cycle
between logscan modules (imports inside functions count too: a lazy import is still a
dependency), no module over 600 lines, and no benchmark code shipped inside the package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "logscan"
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The logscan modules that ``name`` imports, anywhere in its text. ``from a.b import c`` is an
    import of ``a.b.c`` when that is a module, else of ``a.b``."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # import a.b.c of a module a.b's attribute
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {n: imports_of(n, p, known) for n, p in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "import cycles between logscan modules: " + "; ".join(" <-> ".join(c) for c in found)


def test_cycle_finder_finds_a_planted_cycle() -> None:
    g = graph()
    g["logscan.errors"] = g["logscan.errors"] | {"logscan.cli"}  # cli imports errors: now a cycle
    assert any("logscan.errors" in c and "logscan.cli" in c for c in cycles(g))


def test_relative_and_submodule_imports_resolve(tmp_path: Path) -> None:
    known = {"logscan.store", "logscan.store.store", "logscan.store.migrations", "logscan.errors"}
    src = tmp_path / "m.py"
    src.write_text("from . import migrations\nfrom logscan.store.store import X\nimport logscan.errors\n")
    assert imports_of("logscan.store.m", src, known) == {"logscan.store.migrations", "logscan.store.store", "logscan.errors"}


@pytest.mark.parametrize("name", sorted(modules()))
def test_module_size(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES}): split it by job"


def test_no_benchmark_code_in_the_package() -> None:
    inside = [n for n in modules() if "bench" in n.rsplit(".", 1)[-1]]
    assert not inside, f"benchmark modules belong in benchmarks/, not the package: {inside}"


def test_layers_are_subpackages() -> None:
    for layer in ("sources", "ingest", "store", "service", "reports", "quota", "commands"):
        assert (PKG / layer / "__init__.py").is_file(), layer
