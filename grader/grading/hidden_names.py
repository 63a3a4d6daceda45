"""The names of a rubric's hidden tests, found by parsing their files (never importing them), so a
rubric's per-test sections and hints can be checked against the tests that exist."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.syntax import parse_python


def _declared(source: bytes) -> set[str]:
    """Test functions of one file, at module level or in `Test*` classes, as pytest collects them."""
    found: set[str] = set()
    for node in parse_python(source).body:
        bodies = [node] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else []
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            bodies = [item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
        found.update(item.name for item in bodies if item.name.startswith("test"))
    return found


def hidden_test_names(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(folder.rglob("test_*.py")):
        names |= _declared(path.read_bytes())
    return names
