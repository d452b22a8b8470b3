"""bot.rules is pure: the standard library only, and no clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "bot" / "rules"
SOURCES = sorted(RULES.glob("*.py"))
CLOCK_CALLS = {"now", "today", "utcnow", "utcfromtimestamp", "fromtimestamp"}
CLOCK_MODULES = {"time", "random", "secrets", "uuid", "os", "socket", "pathlib", "io"}


def test_rules_package_is_found() -> None:
    assert {p.name for p in SOURCES} >= {"policy.py", "proxy.py", "results.py"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_only_standard_library_and_rules(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name in _imports(tree):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("bot.rules"), name
        assert top not in CLOCK_MODULES, f"{path.name} imports {name}: clock, chance or I/O"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{path.name}:{node.lineno} reads the clock"


def test_no_floats_in_rules() -> None:
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        floats = [
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)
        ]
        assert floats == [], f"{path.name} has float literals at {floats}"
