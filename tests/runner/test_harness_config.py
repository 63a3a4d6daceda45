"""What the host tells the harness (ruff settings as TOML, the rubric's environment) and how the harness
fills the environment's placeholders."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader.grading.rubric_loader import load_rubric
from grader.runner.harness.steps import render_env
from grader.runner.run import harness_config, toml_value
from grader.settings import SHIPPED_RUBRIC, RunnerSettings


@pytest.mark.parametrize("value", [
    "py311", 'quote " and \\ backslash', 3, 2.5, True, ["fastapi.Depends", "litestar.di.Provide"],
    {"tests/**": ["E501", "S101"], "alembic/*": []},
])
def test_toml_value__reads_back_as_the_same_value(value: object) -> None:
    assert tomllib.loads(f"key = {toml_value(value)}")["key"] == value


def test_harness_config__ruff_settings_environment_and_the_hidden_package() -> None:
    config = harness_config(load_rubric(SHIPPED_RUBRIC), RunnerSettings())

    settings = config["lint"]["settings"]
    assert any(line.startswith("lint.flake8-bugbear.extend-immutable-calls = [") and '"fastapi.Depends"' in line
               for line in settings)
    assert all(tomllib.loads(line) for line in settings)  # each is one `KEY = VALUE` ruff reads as TOML
    assert config["env"]["DATABASE_URL"] == "{database_url}"
    assert config["tests_database"] == "sqlite"
    assert config["hidden_package"] == "app"


def test_render_env__placeholders_filled_and_the_rest_as_written() -> None:
    rendered = render_env({"DATABASE_URL": "{database_url}", "PG": "host={postgres_host} db={postgres_db}",
                           "LITERAL": "{not_a_placeholder}"},
                          {"database_url": "sqlite+aiosqlite:////work/home/grader-tests.db",
                           "postgres_host": "/pg/run", "postgres_db": "student_tests"})

    assert rendered == {"DATABASE_URL": "sqlite+aiosqlite:////work/home/grader-tests.db",
                        "PG": "host=/pg/run db=student_tests", "LITERAL": "{not_a_placeholder}"}


def test_shipped_rubric__lint_settings_are_accepted_by_ruff(tmp_path: Path) -> None:
    """ruff itself reads the rubric's settings (an unknown key would fail every submission's lint)."""
    (tmp_path / "app.py").write_text("from fastapi import Depends\n\n\ndef view(x=Depends(print)):\n    return x\n")
    argv = [str(Path(sys.executable).parent / "ruff"), "check", "--isolated", "--no-cache", "--select", "B008",
            "--output-format", "concise"]
    for line in harness_config(load_rubric(SHIPPED_RUBRIC), RunnerSettings())["lint"]["settings"]:
        argv += ["--config", line]
    done = subprocess.run([*argv, str(tmp_path)], capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stdout + done.stderr  # Depends() is immutable: no B008
