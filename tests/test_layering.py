"""Dependencies point one way: server → graph → resolvers → models, signing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"server", "graph", "resolvers", "models", "signing"}
FORBIDDEN = {
    "signing": PROJECT - {"signing"},
    "models": PROJECT - {"models"},
    "resolvers": {"graph", "server", "strawberry", "graphql", "starlette"},
    "graph": {"server"},
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_only_what_lies_below_it(folder: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[folder])
        for path in (ROOT / folder).rglob("*.py")
        if "node_modules" not in path.parts
    }
    assert {p: bad for p, bad in offenders.items() if bad} == {}
