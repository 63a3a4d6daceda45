"""Scoring is a pure function of report and rubric: a table of cases, and determinism."""

from __future__ import annotations

from dataclasses import replace

import pytest

from grader.grading.report import (
    Coverage,
    LintFinding,
    MigrationStep,
    QuizResult,
    Report,
    StepResult,
    StepStatus,
    TamperFinding,
)
from grader.grading.report import (
    TestCase as Case,
)
from grader.grading.rubric import Rubric
from grader.grading.rubric_loader import load_rubric
from grader.grading.scoring import score
from tests.runner.submissions import TEST_RUBRIC

MIGRATIONS = ("upgrade", "downgrade", "upgrade_again", "drift", "single_head")


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric(TEST_RUBRIC)


def perfect(**changes: object) -> Report:
    """A report on which every check passes; `changes` replace fields."""
    report = Report(
        steps=[StepResult(id=step, status=StepStatus.OK, summary="") for step in
               ("lint", "tests", "hidden_tests", "migrations")],
        tests=[Case(id=f"t::{i}", outcome="passed") for i in range(4)],
        hidden_tests=[Case(id=f"h::{i}", outcome="passed") for i in range(3)],
        coverage=Coverage(percent=95.0),
        migrations=[MigrationStep(name=name, ok=True) for name in MIGRATIONS],
        quiz=QuizResult(answered=5, correct=5, total=5),
    )
    for key, value in changes.items():
        setattr(report, key, value)
    return report


def with_step(report: Report, step_id: str, status: StepStatus, summary: str = "") -> Report:
    report.steps = [StepResult(id=step.id, status=status, summary=summary) if step.id == step_id else step
                    for step in report.steps]
    return report


def finding(code: str = "E501") -> LintFinding:
    return LintFinding(file="a.py", line=1, column=1, code=code, message="m")


def points(rubric: Rubric, report: Report) -> dict[str, float]:
    return {check.id: check.points for check in score(report, rubric).checks}


def test_score__perfect_report_is_s(rubric: Rubric) -> None:
    result = score(perfect(), rubric)
    assert (result.score, result.grade, result.next_grade, result.to_next_grade) == (100.0, "S", None, [])
    assert all(check.passed and not check.remediation for check in result.checks)


@pytest.mark.parametrize(("report", "check_id", "expected_points", "passed"), [
    (perfect(lint=[finding()] * 10), "lint", 5.0, False),  # halfway between 0 and 20 findings
    (perfect(lint=[finding()] * 25), "lint", 0.0, False),
    (perfect(tests=[Case(id="a", outcome="passed"), Case(id="b", outcome="failed")]), "tests", 10.0, False),
    (perfect(tests=[Case(id="a", outcome="passed"), Case(id="b", outcome="skipped")]), "tests", 20.0, True),
    (perfect(tests=[]), "tests", 0.0, False),
    (perfect(coverage=Coverage(percent=60.0)), "coverage", 7.5, False),  # halfway between 40 and 80
    (perfect(coverage=Coverage(percent=30.0)), "coverage", 0.0, False),
    (perfect(coverage=None), "coverage", 0.0, False),
    (perfect(migrations=[MigrationStep(name=n, ok=n != "drift") for n in MIGRATIONS]), "migrations", 12.0, False),
    (perfect(hidden_tests=[Case(id="h", outcome="failed")] * 3), "hidden_tests", 0.0, False),
    (perfect(quiz=QuizResult(answered=5, correct=3, total=5)), "quiz", 0.0, False),
    (perfect(quiz=QuizResult(answered=5, correct=4, total=5)), "quiz", 10.0, True),
    (perfect(quiz=None), "quiz", 0.0, False),
])
def test_score__points_per_check(rubric: Rubric, report: Report, check_id: str, expected_points: float,
                                 passed: bool) -> None:
    check = next(c for c in score(report, rubric).checks if c.id == check_id)
    assert (check.points, check.passed) == (expected_points, passed)
    assert bool(check.remediation) is not passed


def test_score__missing_quiz_says_grading_not_available(rubric: Rubric) -> None:
    check = next(c for c in score(perfect(quiz=None), rubric).checks if c.id == "quiz")
    assert check.summary == "quiz grading not available"
    assert [link.url for link in check.remediation] == ["https://textbook.example.org/sqlalchemy-async#theory"]


def test_score__timed_out_tests_give_no_points_for_tests_and_coverage(rubric: Rubric) -> None:
    report = with_step(perfect(), "tests", StepStatus.TIMEOUT, "stopped at the time limit")
    result = {check.id: check for check in score(report, rubric).checks}
    assert (result["tests"].points, result["coverage"].points) == (0.0, 0.0)
    assert result["tests"].summary == "timeout: stopped at the time limit"


def test_score__no_alembic_scores_migrations_zero_with_the_reason(rubric: Rubric) -> None:
    report = with_step(perfect(migrations=[]), "migrations", StepStatus.NOT_RUN, "no Alembic configuration found")
    check = next(c for c in score(report, rubric).checks if c.id == "migrations")
    assert (check.points, check.summary) == (0.0, "no Alembic configuration found")


@pytest.mark.parametrize(("report", "score_", "grade", "next_grade", "needed"), [
    (perfect(quiz=None), 90.0, "S", None, []),
    (perfect(quiz=None, lint=[finding()] * 25), 80.0, "A", "S", ["lint"]),
    (perfect(hidden_tests=[Case(id="h", outcome="failed")]), 70.0, "B", "A", ["hidden_tests"]),
])
def test_score__grade_and_fewest_checks_to_the_next_band(rubric: Rubric, report: Report, score_: float, grade: str,
                                                        next_grade: str | None, needed: list[str]) -> None:
    result = score(report, rubric)
    assert (result.score, result.grade, result.next_grade, result.to_next_grade) == (score_, grade, next_grade, needed)


def test_score__c_needs_the_largest_gains_first(rubric: Rubric) -> None:
    report = perfect(hidden_tests=[Case(id="h", outcome="failed")], quiz=None, lint=[finding()] * 30)
    result = score(report, rubric)  # 100 - 30 - 10 - 10 = 50
    assert (result.score, result.grade, result.next_grade) == (50.0, "C", "B")
    assert result.to_next_grade == ["hidden_tests"]


def test_score__is_deterministic(rubric: Rubric) -> None:
    report = perfect(lint=[finding("F401"), finding("E501"), finding("E501")], coverage=Coverage(percent=71.3))
    first, second = score(report, rubric), score(report, rubric)
    assert first == second
    lint = next(c for c in first.checks if c.id == "lint")
    assert lint.summary == "3 ruff findings: E501 ×2, F401 ×1"


def test_score__russian_rubric_summaries(rubric: Rubric) -> None:
    russian = replace(rubric, language="ru")
    result = score(perfect(coverage=Coverage(percent=50.0)), russian)
    assert result.language == "ru"
    assert next(c for c in result.checks if c.id == "coverage").summary == "покрытие 50.0 % (цель 80 %)"


def test_score__tests_that_could_not_start_say_why(rubric: Rubric) -> None:
    report = perfect(tests=[], coverage=None)
    report.steps = [StepResult(id="tests", status=StepStatus.FAILED, summary="tests could not start: x",
                               error_lines=["ModuleNotFoundError: No module named 'dotenv'", "E   ..."])]

    tests = next(check for check in score(report, rubric).checks if check.id == "tests")

    assert (tests.points, tests.passed) == (0.0, False)
    assert tests.summary == "tests could not start: ModuleNotFoundError: No module named 'dotenv'"


def test_score__the_comment_cap_of_lint_findings_comes_from_the_rubric(rubric: Rubric) -> None:
    assert score(perfect(), rubric).lint_shown == rubric.lint.comment_max_findings
def test_score__tests_that_did_not_finish_give_nothing_even_with_passed_cases(rubric: Rubric) -> None:
    report = with_step(perfect(coverage=None), "tests", StepStatus.INCOMPLETE,
                       "tests did not finish: pytest did not reach the end of its session")
    result = {check.id: check for check in score(report, rubric).checks}
    assert (result["tests"].points, result["coverage"].points) == (0.0, 0.0)
    assert result["tests"].summary == "tests did not finish: pytest did not reach the end of its session"


def test_score__a_check_the_tamper_scan_puts_at_risk_needs_review_and_is_not_credited(rubric: Rubric) -> None:
    exit_call = TamperFinding(file="backend/tests/test_x.py", line=7, kind="process_exit", detail="",
                              name="os._exit", checks=["tests", "coverage"])
    report = perfect(tamper=[exit_call, replace_line(exit_call, 9)])
    result = {check.id: check for check in score(report, rubric).checks}
    assert [(c.id, c.needs_review, c.points) for c in result.values() if c.needs_review] == [
        ("tests", True, 0.0), ("coverage", True, 0.0)]
    assert result["tests"].summary == ("needs review by the instructor: backend/tests/test_x.py:7 ends the process "
                                       "without pytest's session end (os._exit) (+1)")
    assert result["hidden_tests"].passed
    russian = next(c for c in score(report, replace(rubric, language="ru")).checks if c.id == "tests")
    assert russian.summary.startswith("нужна проверка преподавателем: backend/tests/test_x.py:7 завершает процесс")


def replace_line(item: TamperFinding, line: int) -> TamperFinding:
    return TamperFinding(file=item.file, line=line, kind=item.kind, detail=item.detail, name=item.name,
                         checks=item.checks)


def test_score__a_rejected_push_scores_zero_with_its_reason_everywhere(rubric: Rubric) -> None:
    report = perfect(rejected="submission rejected: the repository archive holds a link")
    result = score(report, rubric)
    assert (result.score, result.grade) == (0.0, "C")
    assert {check.summary for check in result.checks} == {"submission rejected: the repository archive holds a link"}


def test_score__public_only_leaves_the_private_checks_to_the_service(rubric: Rubric) -> None:
    public = rubric.public()
    result = score(Report(), public, rubric.private_checks)

    assert {check.id for check in result.checks} == {check.id for check in rubric.checks} - {
        check.id for check in rubric.checks if check.kind in ("hidden_tests", "quiz")}
    assert result.graded_by_service == [check.title for check in rubric.checks
                                        if check.kind in ("hidden_tests", "quiz")]
    assert (public.quiz, public.hidden_tests_dir) == (None, None)
    assert rubric.quiz is not None
