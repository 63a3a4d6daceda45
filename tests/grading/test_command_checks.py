"""`command` checks: the rubric's keys, the harness configuration they make, and their points."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.report import CommandFile, CommandRun, Coverage, Report, StepResult, StepStatus, TamperFinding
from grader.grading.report import TestCase as Case
from grader.grading.rubric import Rubric
from grader.grading.rubric_loader import RubricError, load_checked_rubric, load_rubric
from grader.grading.scoring import score
from grader.runner.run import harness_config
from grader.settings import GradingSettings, RunnerSettings
from tests.conftest import shipped_rubric

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "rubric" / "frontend-vitest.toml"
HEAD = """
[rubric]
id = "t"
title = "t"
language = "en"
remediation_base_url = "https://example.org"
[grades]
pass = 60
fail = 0
"""


def rubric_from(tmp_path: Path, checks: str, runner: str = "") -> Rubric:
    path = tmp_path / "rubric.toml"
    path.write_text(HEAD + runner + checks)
    return load_rubric(path)


@pytest.fixture(scope="module")
def frontend() -> Rubric:
    return load_checked_rubric(GradingSettings(rubric_path=FRONTEND), FRONTEND)


def test_frontend_rubric__has_only_command_checks_and_a_runner_variant(frontend: Rubric) -> None:
    assert {check.kind for check in frontend.checks} == {"command"}
    assert frontend.step_ids == ("command:lint", "command:tests")
    assert "nodejs" in frontend.system_packages
    assert any(p.startswith("vitest@") for p in frontend.node_packages)
    assert [path.name for path in frontend.public_files] == ["eslint.config.mjs"]
    assert frontend.band_names == ["A", "B", "C", "F"]


def test_harness_config__runs_each_command_once_with_every_file_its_checks_read(frontend: Rubric) -> None:
    config = harness_config(frontend, RunnerSettings())
    assert config["steps"] == ["command:lint", "command:tests"]
    assert config["postgres"] is False  # no Python step needs the run's PostgreSQL
    tests = config["commands"]["command:tests"]
    assert tests["argv"][:2] == ["vitest", "run"]
    assert tests["files"] == ["reports/junit.xml", "coverage/coverage-summary.json"]
    assert config["commands"]["command:lint"]["files"] == []


def test_harness_config__python_rubric_keeps_its_four_steps_and_postgres() -> None:
    config = harness_config(shipped_rubric(), RunnerSettings())
    assert config["steps"] == ["lint", "tests", "hidden_tests", "migrations"]
    assert config["postgres"] is True
    assert config["commands"] == {}


@pytest.mark.parametrize(("checks", "error"), [
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\n', "either `command`"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\nrun = "b"\n', "either `command`"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\nresults = "tap"\n', "results must be"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\nresults = "junit"\n', "results_file"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\nresults = "junit"\n'
     'results_file = "../x.xml"\n', "inside the student's repository"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\nrun = "nobody"\nresults = "junit"\n'
     'results_file = "x.xml"\n', "which is not a command check"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\n[[checks]]\nid = "b"\nkind = "command"\n'
     'points = 1\nrun = "a"\n', "must name a file"),
    ('[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\ntimeout = 0\n', "positive number"),
])
def test_command_check__a_broken_one_is_one_line_naming_the_key(tmp_path: Path, checks: str, error: str) -> None:
    with pytest.raises(RubricError, match=error) as raised:
        rubric_from(tmp_path, checks)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("runner", "error"), [
    ('[runner]\nsystem_packages = ["nodejs; rm -rf /"]\n', "not a package name"),
    ('[runner]\nnode_packages = ["vitest@3 && curl x"]\n', "not a package name"),
    ('[runner]\npublic_files = ["missing.mjs"]\n', "which is not a file"),
])
def test_runner_variant__package_names_and_public_files_are_checked(tmp_path: Path, runner: str, error: str) -> None:
    with pytest.raises(RubricError, match=error):
        rubric_from(tmp_path, '[[checks]]\nid = "a"\nkind = "command"\npoints = 1\ncommand = ["x"]\n', runner)


def run_report(exit_code: int | None, *files: CommandFile, status: StepStatus = StepStatus.OK,
               step: str = "command:tests") -> Report:
    return Report(steps=[StepResult(id="command:lint", status=StepStatus.OK, summary=""),
                         StepResult(id=step, status=status, summary="stopped at the time limit")],
                  commands=[CommandRun(step="command:lint", exit_code=0),
                            CommandRun(step=step, exit_code=exit_code, files=list(files))])


JUNIT, SUMMARY = "reports/junit.xml", "coverage/coverage-summary.json"
PASSED = [Case(id=f"t{i}", outcome="passed") for i in range(4)]


@pytest.mark.parametrize(("report", "tests", "coverage", "summary"), [
    (run_report(0, CommandFile(JUNIT, tests=PASSED), CommandFile(SUMMARY, coverage=Coverage(percent=90))),
     50, 30, "4 of 4 tests passed"),
    (run_report(1, CommandFile(JUNIT, tests=[*PASSED[:3], Case(id="t3", outcome="failed")]),
                CommandFile(SUMMARY, coverage=Coverage(percent=60))), 37.5, 15, "3 of 4 tests passed"),
    (run_report(1, CommandFile(JUNIT, error="missing"), CommandFile(SUMMARY, error="missing")), 0, 0,
     "the command did not write reports/junit.xml"),
    (run_report(0, CommandFile(JUNIT, error="malformed"), CommandFile(SUMMARY, error="malformed")), 0, 0,
     "reports/junit.xml is not JUnit XML"),
    (run_report(None, CommandFile(JUNIT, tests=PASSED), CommandFile(SUMMARY, coverage=Coverage(percent=90)),
                status=StepStatus.TIMEOUT), 0, 0, "timeout: stopped at the time limit"),
    (run_report(0, CommandFile(JUNIT, tests=[]), CommandFile(SUMMARY, coverage=Coverage(percent=100))), 0, 30,
     "no tests were found"),
])
def test_command_points__junit_share_and_coverage_line(frontend: Rubric, report: Report, tests: float,
                                                       coverage: float, summary: str) -> None:
    result = score(report, frontend)
    by_id = {check.id: check for check in result.checks}
    assert (by_id["tests"].points, by_id["coverage"].points) == (tests, coverage)
    assert by_id["tests"].summary == summary
    assert by_id["lint"].points == 20


@pytest.mark.parametrize(("exit_code", "points", "summary"), [
    (0, 20, "the command succeeded"), (1, 0, "the command failed (exit status 1)"),
    (2, 0, "the command failed (exit status 2)"),
])
def test_exit_code_check__full_points_only_on_success(frontend: Rubric, exit_code: int, points: float,
                                                      summary: str) -> None:
    report = run_report(0)
    report.commands[0] = CommandRun(step="command:lint", exit_code=exit_code)
    lint = next(check for check in score(report, frontend).checks if check.id == "lint")
    assert (lint.points, lint.summary, lint.passed) == (points, summary, exit_code == 0)
    assert lint.remediation == [] if exit_code == 0 else lint.remediation[0].url.endswith("#fe4")


def test_command_check__a_run_that_never_happened_scores_nothing(frontend: Rubric) -> None:
    result = score(Report(), frontend)
    assert result.score == 0
    assert result.grade == "F"
    assert {check.summary for check in result.checks} == {"the command did not run"}


def test_coverage_hint__withholds_the_coverage_check_only(frontend: Rubric) -> None:
    report = run_report(0, CommandFile(JUNIT, tests=PASSED), CommandFile(SUMMARY, coverage=Coverage(percent=100)))
    report.tamper = [TamperFinding(file="src/cart.js", line=3, kind="coverage_hint", detail="", name="v8",
                                   checks=["command:coverage_summary"])]
    checks = {check.id: check for check in score(report, frontend).checks}
    assert (checks["coverage"].points, checks["coverage"].needs_review) == (0, True)
    assert "src/cart.js:3" in checks["coverage"].summary
    assert (checks["tests"].points, checks["lint"].points) == (50, 20)
