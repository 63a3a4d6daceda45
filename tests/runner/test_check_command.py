"""`grader check` as a user runs it: exit 0 whenever grading ran, one line on stderr when it cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.result import grade_from_dict
from grader.settings import RunnerSettings
from tests.runner.submissions import ROOT, TEST_RUBRIC, make_submission


def grader(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "GRADER_STEP_TIMEOUT": "60", **(env or {})}, timeout=600, check=False)


def test_check__missing_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = grader("check", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"grader: {tmp_path / 'nowhere'} is not a folder: give the path of a checked-out submission"]


def test_check__bad_rubric_is_one_line_naming_the_key(tmp_path: Path) -> None:
    rubric = tmp_path / "bad.toml"
    rubric.write_text(TEST_RUBRIC.read_text().replace("points = 20", "points = 0", 1))
    result = grader("check", str(tmp_path), "--rubric", str(rubric))
    assert result.returncode == 2
    assert result.stderr.strip() == f"grader: {rubric}: checks[1].points must be a positive number"


def test_check__no_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = grader("check", str(make_submission("clean", tmp_path)), "--rubric", str(TEST_RUBRIC),
                    env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("grader: could not grade: no container engine")


@pytest.mark.docker
def test_check__json_and_text_of_a_graded_submission(runner_settings: RunnerSettings, tmp_path: Path) -> None:
    checkout = str(make_submission("failing_test", tmp_path))
    env = {"GRADER_IMAGE": runner_settings.image}
    as_json = grader("check", checkout, "--rubric", str(TEST_RUBRIC), "--format", "json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert set(data) >= {"score", "grade", "checks"}
    assert {"id", "passed", "points", "max_points", "summary", "remediation"} <= set(data["checks"][0])
    result = grade_from_dict(data)
    assert [check.id for check in result.checks if not check.passed] == ["tests"]
    as_text = grader("check", checkout, "--rubric", str(TEST_RUBRIC), env=env)
    assert as_text.returncode == 0, as_text.stderr
    lines = as_text.stdout.splitlines()
    assert lines[:2] == ["lint: running", "lint: finished in " + lines[1].split(" in ")[1]]
    assert any(line.startswith("FAIL  tests") and "4 of 5 tests passed" in line for line in lines)
    assert f"score {result.score:g}/100, grade {result.grade}" in lines
    assert "  reread for tests: SA2. Transactions <https://textbook.example.org/sqlalchemy-async#sa2>" in lines
