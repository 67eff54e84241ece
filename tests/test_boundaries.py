"""The walls of the house, checked by reading the imports (no module is imported here).

- ``flows/`` is the conversation, pure: no web framework, database or platform.
- ``knowledge/`` is data and its checks: it knows nothing of the engine or the bot.
- No circle of imports between the project's modules, lazy imports included:
  each package builds on the ones below it (knowledge ← flows ← bot).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "flows", "knowledge")
#: Package -> top-level names it must never import.
FORBIDDEN = {
    "flows": ("bot", "fastapi", "starlette", "sqlalchemy", "telegram", "twilio", "uvicorn"),
    "knowledge": ("bot", "flows", "fastapi", "starlette", "sqlalchemy", "telegram", "twilio"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
}


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``path``, at any depth; ``from a import b``
    names ``a.b`` when that is a module of the project, else ``a``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "__future__":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield node.lineno, candidate if candidate in MODULES else base


def project_imports(module: str) -> set[str]:
    return {target for _, target in imported(MODULES[module]) if target in MODULES}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_across_its_wall(package: str) -> None:
    crossings = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}"
        for module in sorted(MODULES)
        if module.split(".")[0] == package
        for line, target in imported(MODULES[module])
        if target.split(".")[0] in FORBIDDEN[package]
    ]
    assert crossings == []


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module, or a module importing itself
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_circle_of_imports_between_the_projects_modules() -> None:
    graph = {module: project_imports(module) for module in MODULES}
    assert import_circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert import_circles(graph) == [["a", "b", "c"], ["e"]]


def test_the_walls_are_read_from_real_imports() -> None:
    assert "knowledge.base" in project_imports("flows.engine")
    assert "flows.turn" in project_imports("bot.helpline")
    assert "bot.knowledge_check" in project_imports("bot.cli")  # imported inside a function
