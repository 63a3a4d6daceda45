"""Golden files: rendered output compared with a committed file, byte for byte.

A test never writes its golden file; a difference fails it. After a deliberate change of the output,
`make golden` rewrites every golden file from the same functions the tests compare with, and the
diff is reviewed like any other change.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

GoldenOutputs = Callable[[], Iterator[tuple[Path, str]]]
# Modules with a `golden_outputs()` function yielding (golden file, rendered text).
GOLDEN_MODULES = ("tests.feedback.test_comment", "tests.grading.test_quiz")


def assert_matches_golden(path: Path, rendered: str) -> None:
    expected = path.read_text(encoding="utf-8") if path.is_file() else None
    assert rendered == expected, f"{path} differs from the rendered output; if the change is meant, run `make golden`"


def regenerate() -> list[Path]:
    written = []
    for name in GOLDEN_MODULES:
        outputs: GoldenOutputs = importlib.import_module(name).golden_outputs
        for path, text in outputs():
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in regenerate():
        print(f"wrote {path}", file=sys.stderr)
