"""The package's import graph, read from the source with `ast`: no cycles, and no upward imports.

Data flows one way (edge → queue → runner → grading → feedback → GitHub), and each layer may only
import the layers below it, so a new dependency that points the wrong way fails here before it turns
into a cycle.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "grader"
# Lowest first; a module may import its own layer (without a cycle) and those below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # The course file is part of the settings: read and checked with them at start.
    ("grader", "grader.errors", "grader.settings", "grader.logs", "grader.texts", "grader.course.config"),
    ("grader.db",),
    ("grader.grading", "grader.course"),
    ("grader.runner", "grader.github"),
    ("grader.feedback", "grader.queue"),
    ("grader.pipeline", "grader.webhooks", "grader.api", "grader.actions"),
    ("grader.workflow_reports", "grader.dashboard"),
    ("grader.app", "grader.commands", "grader.cli", "grader.__main__"),
)
# The in-container harness is a program of its own, run inside the sandbox: it imports nothing of the
# service (checked below), and nothing of the service may import it but the runner.
HARNESS = "grader.runner.harness"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str) -> Iterator[str]:
    """Every grader module `path` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@functools.cache
def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {target for target in imported(path, name) if target in files and target != name}
            for name, path in files.items()}


def layer(module: str) -> int:
    best = max((prefix for layer_ in LAYERS for prefix in layer_
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return next(index for index, layer_ in enumerate(LAYERS) if best in layer_)


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of modules, or [] when there is none (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                return [*path[path.index(target):], target]
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append(iter(sorted(graph[target])))
    return []


def test_find_cycle__finds_one_and_only_when_there_is_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_imports__the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "grader.grading.scoring" in graph["grader.pipeline.checkout"]
    assert "grader.settings" in graph["grader.db.engine"]


def test_imports__no_cycle_in_the_package() -> None:
    assert find_cycle(import_graph()) == []


def test_imports__every_module_has_a_layer() -> None:
    assert all(isinstance(layer(module), int) for module in import_graph())


@pytest.mark.parametrize("module", sorted(import_graph()))
def test_imports__no_module_imports_a_layer_above_its_own(module: str) -> None:
    upward = sorted(target for target in import_graph()[module]
                    if layer(target) > layer(module) and not target.startswith(HARNESS))
    assert upward == []


def test_imports__the_harness_imports_nothing_of_the_service() -> None:
    graph = import_graph()
    outside = {target for module, targets in graph.items() if module.startswith(HARNESS)
               for target in targets if not target.startswith(HARNESS)}
    assert outside == set()
    importers = {module for module, targets in graph.items() if not module.startswith(HARNESS)
                 and any(target.startswith(HARNESS) for target in targets)}
    assert importers
    assert all(module.startswith("grader.runner") for module in importers)
