"""The names of a rubric's hidden tests, found by parsing their files (never importing them), so a
rubric's per-test sections and hints can be checked against the tests that exist."""

from __future__ import annotations

from pathlib import Path

from grader.runner.harness.protocol import declared_tests


def hidden_test_names(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(folder.rglob("test_*.py")):
        names |= declared_tests(path.read_bytes())
    return names
