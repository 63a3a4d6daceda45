"""What the host tells the harness (ruff settings as TOML, the rubric's environment) and how the harness
fills the environment's placeholders."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader.grading.rubric_loader import load_rubric
from grader.runner.harness.context import Context, render_env
from grader.runner.harness.proc import Account
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


def _context(env: dict[str, str], tests_database: str = "sqlite") -> Context:
    student = Account(name="student", uid=2000, gid=2000, home="/work/home", tmp="/tmp")
    hidden = Account(name="hidden", uid=2001, gid=2001, home="/grader/hidden-home", tmp="/grader/hidden-home/tmp")
    postgres = Account(name="postgres", uid=105, gid=105, home="/pg", tmp="/pg")
    return Context(config={"env": env, "tests_database": tests_database}, student=student, hidden=hidden,
                   postgres_account=postgres, deadline=0)


def test_student_env__the_tests_database_and_the_runs_postgresql() -> None:
    env = {"DATABASE_URL": "{database_url}", "PG": "{postgres_url}", "HOST": "{postgres_host}:{postgres_port}"}
    ctx = _context(env)

    assert ctx.student_env("") == {"DATABASE_URL": "sqlite+aiosqlite:////work/home/grader-tests.db",
                                   "PG": "postgresql+asyncpg://student@/student_tests?host=/pg/run",
                                   "HOST": "/pg/run:5432"}
    assert ctx.student_env("student")["DATABASE_URL"] == "postgresql+asyncpg://student@/student?host=/pg/run"


def test_probe_env__the_rubrics_settings_without_databases_or_pytest_options() -> None:
    ctx = _context({"DATABASE_URL": "{database_url}", "SECRET_KEY": "not-a-secret", "PG": "{postgres_url}",
                    "PYTEST_ADDOPTS": "-x"})

    assert ctx.probe_env("probe") == {"SECRET_KEY": "not-a-secret",
                                      "PG": "postgresql+asyncpg://student@/probe?host=/pg/run"}
