"""Generic tricks on the verdicts, graded in the real runner image: each gets the honest verdict.

Ending or skipping the student's process, reading the grader's files and leaving them for a later
step, an `env.py` that exits 0, a downgrade that does nothing, forged coverage and test results, exclusion
pragmas, ignore files, a flooded results pipe, a nested quiz file, a killed PostgreSQL. All fixtures are
graded once per module, two at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from grader.feedback.comment import CommentContext, render_comment
from grader.grading.report import StepStatus
from grader.grading.result import GradeResult
from grader.grading.rubric_loader import load_rubric
from grader.settings import RunnerSettings
from tests.runner.submissions import TEST_RUBRIC, grade_fixtures

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

FIXTURES = ("low_coverage", "hidden_exit", "hidden_skip", "hidden_leak", "alembic_exit", "downgrade_noop",
            "coverage_forge", "pragma_no_cover", "lint_hidden", "results_flood", "quiz_bomb", "pg_disk_fill")
HIDDEN_SOURCE_MARKER = "hidden-source-7f3a9c"  # a constant of tests/fixtures/rubric/hidden_tests


@pytest.fixture(scope="module")
def graded(runner_settings: RunnerSettings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeResult]:
    # No fixture here tests a time limit: generous ones keep a busy machine from turning verdicts into timeouts.
    settings = replace(runner_settings, step_timeout_seconds=60, run_timeout_seconds=300)
    rubric = load_rubric(TEST_RUBRIC)
    return asyncio.run(grade_fixtures(FIXTURES, rubric, settings, tmp_path_factory.mktemp("forgeries")))


def _check(result: GradeResult, check_id: str) -> tuple[bool, float, str]:
    check = next(check for check in result.checks if check.id == check_id)
    return check.passed, check.points, check.summary


def _status(result: GradeResult, step_id: str) -> StepStatus:
    step = result.report.step(step_id)
    assert step is not None, f"no {step_id} step"
    return step.status


def _everything(result: GradeResult) -> str:
    """All a student or instructor can see of a result: the stored result and the rendered comment."""
    return repr(result) + render_comment(result, CommentContext(repo="o/r", head_sha="a" * 40))


@pytest.mark.parametrize("fixture", ["hidden_exit", "hidden_skip"])
def test_hidden_forgery__ending_or_skipping_the_students_process_fails_every_hidden_check(
        graded: dict[str, GradeResult], fixture: str) -> None:
    result = graded[fixture]
    assert _check(result, "hidden_tests")[:2] == (False, 0.0)
    assert len(result.report.hidden_tests) == 3
    assert not any(case.outcome == "passed" for case in result.report.hidden_tests)


def test_hidden_exit__the_students_own_tests_count_nothing_and_migrations_are_judged_by_the_database(
        graded: dict[str, GradeResult]) -> None:
    result = graded["hidden_exit"]
    assert _status(result, "tests") in (StepStatus.INCOMPLETE, StepStatus.FAILED)
    assert _check(result, "tests")[:2] == (False, 0.0)
    assert _check(result, "coverage")[:2] == (False, 0.0)
    upgrade = result.report.migrations[0]
    assert (upgrade.name, upgrade.ok) == ("upgrade", False)
    assert any("alembic_version" in line for line in upgrade.error_lines)


def test_hidden_leak__no_hidden_source_reaches_any_step_or_the_feedback(graded: dict[str, GradeResult]) -> None:
    result = graded["hidden_leak"]
    assert HIDDEN_SOURCE_MARKER not in _everything(result)
    lines = [line for step in result.report.migrations for line in step.error_lines]
    assert "LEAK-CHECK left=0" in lines  # nothing of earlier steps was left in /tmp or /dev/shm
    assert not any(line.startswith("LEAK-FOUND") for line in lines)
    assert {case.outcome for case in result.report.hidden_tests} == {"passed"}
    assert next(c for c in result.checks if c.id == "hidden_tests").needs_review  # it names the grader's paths


def test_alembic_exit__an_env_py_that_exits_0_passes_no_migration_step(graded: dict[str, GradeResult]) -> None:
    result = graded["alembic_exit"]
    assert _check(result, "migrations")[:2] == (False, 0.0)
    assert [(step.name, step.ok) for step in result.report.migrations] == [
        ("upgrade", False), ("downgrade", False), ("upgrade_again", False), ("drift", False),
        ("single_head", False)]


def test_downgrade_noop__tables_left_after_downgrade_base_fail_it_whatever_the_exit_code(
        graded: dict[str, GradeResult]) -> None:
    steps = {step.name: step for step in graded["downgrade_noop"].report.migrations}
    assert steps["upgrade"].ok
    assert not steps["downgrade"].ok
    assert steps["downgrade"].error_lines[0] == "tables left after downgrade base: items"


def test_coverage_forge__a_test_run_that_ends_early_counts_nothing_and_needs_review(
        graded: dict[str, GradeResult]) -> None:
    result = graded["coverage_forge"]
    assert _status(result, "tests") is StepStatus.INCOMPLETE
    assert _check(result, "tests")[:2] == (False, 0.0)
    assert _check(result, "coverage")[:2] == (False, 0.0)
    assert result.report.coverage is None
    assert {item.kind for item in result.report.tamper} >= {"coverage_api", "process_exit", "junit_writer"}
    assert all(check.needs_review for check in result.checks if check.id in ("tests", "coverage"))


def test_pragma_no_cover__exclusion_pragmas_do_not_count_unless_the_rubric_allows(
        graded: dict[str, GradeResult]) -> None:
    honest, pragmas = graded["low_coverage"].report.coverage, graded["pragma_no_cover"].report.coverage
    assert honest is not None
    assert pragmas is not None
    assert pragmas.percent == honest.percent
    assert _check(graded["pragma_no_cover"], "coverage")[0] is False


def test_lint_hidden__ignore_files_and_default_excludes_hide_nothing(graded: dict[str, GradeResult]) -> None:
    result = graded["lint_hidden"]
    files = {finding.file for finding in result.report.lint}
    assert {"dist/packaged.py", "build/lib/vendored.py", ".venv-like/site-packages/mod.py"} <= files
    assert _check(result, "lint")[0] is False


def test_results_flood__an_oversized_results_pipe_is_a_student_failure_with_a_reason(
        graded: dict[str, GradeResult]) -> None:
    result = graded["results_flood"]
    step = result.report.step("tests")
    assert step is not None
    assert step.status is StepStatus.INCOMPLETE
    assert "the test results were larger than 4 MB" in step.summary
    assert len(_everything(result)) < 200_000


def test_quiz_bomb__a_nested_answers_file_is_a_quiz_failure_with_a_reason(graded: dict[str, GradeResult]) -> None:
    quiz = graded["quiz_bomb"].report.quiz
    assert quiz is not None
    assert "nested too deeply" in quiz.error


def test_pg_disk_fill__a_database_the_students_tests_killed_is_replaced_for_the_next_steps(
        graded: dict[str, GradeResult]) -> None:
    result = graded["pg_disk_fill"]
    assert _check(result, "tests")[0] is False
    assert _status(result, "hidden_tests") is StepStatus.OK
    assert _status(result, "migrations") is StepStatus.OK
