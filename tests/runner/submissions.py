"""Fixture submissions: `clean` plus an overlay per variant (see tests/fixtures/submissions/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
