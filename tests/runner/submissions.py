"""Fixture submissions: `clean` plus an overlay per variant (see tests/fixtures/submissions/README.md)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from grader.grading.result import GradeResult
from grader.grading.rubric import Rubric
from grader.pipeline.checkout import grade_checkout
from grader.settings import RunnerSettings

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
TEST_RUBRIC = ROOT / "tests" / "fixtures" / "rubric" / "grading-test.toml"
REMOVE_LIST = ".remove"


def make_submission(name: str, parent: Path) -> Path:
    """A fresh copy of `clean` with the variant's files laid over it, under `parent/name`."""
    target = parent / name
    shutil.copytree(SUBMISSIONS / "clean", target, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))
    if name == "clean":
        return target
    overlay = SUBMISSIONS / name
    for source in sorted(overlay.rglob("*")):
        relative = source.relative_to(overlay)
        if source.is_file() and relative.as_posix() != REMOVE_LIST and "__pycache__" not in relative.parts:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / relative)
    removals = overlay / REMOVE_LIST
    for line in removals.read_text().splitlines() if removals.exists() else []:
        doomed = target / line.strip()
        if doomed.is_dir():
            shutil.rmtree(doomed)
        elif doomed.exists():
            doomed.unlink()
    return target


def checkout_for(name: str, parent: Path) -> Path:
    """A fixture's checkout, with what cannot be committed as fixture files: a symbolic link, and the
    folders git itself ignores (`dist/`, `build/`)."""
    if name == "symlink":
        checkout = make_submission("clean", parent / "symlink")
        (checkout / "backend" / "passwd").symlink_to("/etc/passwd")
        return checkout
    checkout = make_submission(name, parent)
    if name == "lint_hidden":
        for path, source in (("dist/packaged.py", "import os\n"), ("build/lib/vendored.py", "import sys\n"),
                             (".venv-like/site-packages/mod.py", "import json\n")):
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_text(source)
    return checkout


async def grade_fixtures(names: tuple[str, ...], rubric: Rubric, settings: RunnerSettings,
                         parent: Path) -> dict[str, GradeResult]:
    """Every named fixture graded, two at a time (the CI machine has two cores)."""
    gate = asyncio.Semaphore(2)

    async def one(name: str) -> tuple[str, GradeResult]:
        async with gate:
            return name, await grade_checkout(checkout_for(name, parent), rubric, settings)

    return dict(await asyncio.gather(*(one(name) for name in names)))
