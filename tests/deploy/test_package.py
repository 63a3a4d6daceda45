"""What `pip install` gets: the wheel carries every file of the package and the built-in rubrics."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.servers import REPO_ROOT


def _shipped(folder: Path, prefix: str) -> set[str]:
    return {f"{prefix}/{path.relative_to(folder).as_posix()}" for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


def test_wheel__carries_the_whole_package_with_migrations_templates_and_built_in_rubrics(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(REPO_ROOT)], check=True, timeout=300, cwd=tmp_path)
    [wheel] = tmp_path.glob("grader-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    expected = _shipped(REPO_ROOT / "grader", "grader") | _shipped(REPO_ROOT / "rubric", "grader/rubrics")
    assert expected - names == set()
    assert "grader/db/migrations/env.py" in names
    assert "grader/rubrics/sqlalchemy-async/quiz_key.toml" in names
