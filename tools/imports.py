"""The house rules of ``tutor/``, read from its imports (imports inside functions count).

``python -m tools.imports`` prints the import graph's levels and exits 1 when

- any import circle exists (a package's ``__init__`` importing its own submodules is its face,
  not a circle);
- a core room (``lesson``, ``training``, ``exercises``, ``progress``, and the top-level shared
  modules) imports Textual or a front end (``tutor.ui``, ``tutor.cli``), directly or through
  another module.

``tests/unit/test_house.py`` runs it, so CI keeps the rules.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

# tutor.testing drives the app for tests: a front end too.
FRONT_ENDS = ("tutor.ui", "tutor.cli", "tutor.app", "tutor.testing")
# `tutor/__main__.py` and the `tutor.app` face exist to reach a front end.
ENTRY_POINTS = {"tutor.__main__", "tutor.app"}


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module under ``root/tutor``."""
    mods: dict[str, Path] = {}
    for f in sorted((root / "tutor").rglob("*.py")):
        parts = f.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = f
    return mods


def _targets(mod: str, is_pkg: bool, node: ast.AST) -> Iterable[str]:
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            pkg = mod.split(".") if is_pkg else mod.split(".")[:-1]
            pkg = pkg[: len(pkg) - (node.level - 1)]
            base = ".".join(pkg + ([base] if base else []))
        yield base
        yield from (f"{base}.{a.name}" for a in node.names)


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(tutor module → tutor modules it imports, tutor module → outside packages it imports)."""
    mods = module_files(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    outside: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            for target in _targets(mod, path.name == "__init__.py", node):
                if not target.startswith("tutor"):
                    outside[mod].add(target.split(".")[0])
                    continue
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != mod:
                    graph[mod].add(target)
    return graph, outside


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, faces excepted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    # A package's __init__ importing its own submodules is its face, not a circle.
    return [c for c in found if not all(m.startswith(min(c, key=len)) for m in c)]


def is_core(mod: str) -> bool:
    return mod not in ENTRY_POINTS and not mod.startswith(FRONT_ENDS)


def core_violations(graph: dict[str, set[str]], outside: dict[str, set[str]]) -> list[str]:
    """Core modules that reach Textual or a front end, with the path that does."""
    bad = []
    for mod in sorted(m for m in graph if is_core(m)):
        seen = {mod: [mod]}
        todo = [mod]
        while todo:
            cur = todo.pop()
            if "textual" in outside[cur]:
                bad.append(" → ".join(seen[cur]) + " → textual")
                break
            if not is_core(cur):
                bad.append(" → ".join(seen[cur]))
                break
            for nxt in sorted(graph[cur]):
                if nxt not in seen:
                    seen[nxt] = [*seen[cur], nxt]
                    todo.append(nxt)
    return bad


def levels(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each module's level: 0 imports no tutor module, else 1 + the highest level it imports."""
    memo: dict[str, int] = {}

    def level(m: str, path: frozenset[str]) -> int:
        if m not in memo:
            deps = [d for d in graph[m] if d not in path]
            memo[m] = 1 + max((level(d, path | {m}) for d in deps), default=-1)
        return memo[m]

    return {m: level(m, frozenset()) for m in graph}


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    graph, outside = import_graph(root)
    found = circles(graph)
    bad = core_violations(graph, outside)
    depth = max(levels(graph).values(), default=0) + 1
    print(f"{len(graph)} modules in tutor/, {depth} import levels")
    for comp in found:
        print("circle: " + " <-> ".join(comp))
    for path in bad:
        print("core reaches a front end or Textual: " + path)
    if not found and not bad:
        print("no import circle; no core module reaches Textual or a front end")
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
