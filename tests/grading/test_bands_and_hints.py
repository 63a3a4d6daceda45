"""Bands with required checks, custom band sets, hidden tests' own sections, hints and weights: tables
of reports through the real scoring and the shipped rubric."""

from __future__ import annotations

from dataclasses import replace

import pytest

from grader.grading.report import Coverage, LintFinding, Report
from grader.grading.report import TestCase as Case
from grader.grading.rubric import Band, HiddenTest, Rubric
from grader.grading.rubric_loader import load_checked_rubric, load_rubric
from grader.grading.scoring import score
from grader.settings import GradingSettings
from tests.grading.test_scoring import perfect
from tests.runner.submissions import TEST_RUBRIC

LESSON_BANDS = (Band("S", 90, ("tests", "hidden_tests", "migrations", "coverage", "lint")),
                Band("A", 80, ("tests", "hidden_tests", "migrations", "coverage")),
                Band("B", 70, ("tests", "hidden_tests", "migrations")), Band("C", 0))


@pytest.fixture(scope="module")
def lesson() -> Rubric:
    """The test rubric with the lesson's bands, in English."""
    return replace(load_rubric(TEST_RUBRIC), grades=LESSON_BANDS)


def _hidden(passed: int, failed: int) -> list[Case]:
    return ([Case(id=f"test_ok_{i}", outcome="passed") for i in range(passed)]
            + [Case(id=f"test_bad_{i}", outcome="failed", message="boom") for i in range(failed)])


def finding() -> LintFinding:
    return LintFinding(file="a.py", line=1, column=1, code="E501", message="m")


@pytest.mark.parametrize(("report", "score_", "grade", "held_back", "next_grade", "needed"), [
    # Its own test fails (it flushes, never commits): 90 points, yet neither S nor A nor B.
    (perfect(tests=[Case(id="a", outcome="passed"), Case(id="b", outcome="failed")]), 90.0, "C",
     ["S needs every test green: 1 of 2 tests passed"], "B", ["tests"]),
    (perfect(lint=[finding()]), 99.5, "A", ["S needs clean style (no ruff findings): 1 ruff findings: E501 ×1"],
     "S", ["lint"]),
    (perfect(coverage=Coverage(percent=79.0)), 99.6, "B",
     ["S needs coverage at the target: coverage 79.0 % (target 80 %)"], "A", ["coverage"]),
    (perfect(hidden_tests=_hidden(2, 1)), 90.0, "C", ["S needs the whole lesson checklist: 2 of 3 tests passed"],
     "B", ["hidden_tests"]),
    (perfect(quiz=None), 90.0, "S", [], None, []),  # the quiz is no band's requirement
    (perfect(), 100.0, "S", [], None, []),
])
def test_score__a_band_needs_its_required_checks(lesson: Rubric, report: Report, score_: float, grade: str,
                                                 held_back: list[str], next_grade: str | None,
                                                 needed: list[str]) -> None:
    result = score(report, lesson)

    assert (result.score, result.grade) == (score_, grade)
    assert [item.reason for item in result.held_back] == held_back
    assert (result.next_grade, result.to_next_grade) == (next_grade, needed)


def test_score__the_next_grade_names_its_requirements_then_the_largest_gains(lesson: Rubric) -> None:
    report = perfect(tests=[Case(id="a", outcome="failed")], quiz=None, coverage=Coverage(percent=60.0))
    result = score(report, lesson)  # 100 - 20 (tests) - 10 (quiz) - 7.5 (coverage) = 62.5

    assert (result.score, result.grade, result.held_back) == (62.5, "C", [])
    assert (result.next_grade, result.to_next_grade) == ("B", ["tests"])


def test_score__requirement_reasons_are_in_the_rubric_language(lesson: Rubric) -> None:
    russian = replace(lesson, language="ru")
    result = score(perfect(tests=[Case(id="a", outcome="passed"), Case(id="b", outcome="failed")]), russian)

    assert [item.reason for item in result.held_back] == [
        "Для S нужно: все тесты зелёные — пройдено тестов: 1 из 2"]


@pytest.mark.parametrize(("score_passed", "grade"), [((True,), "pass"), ((False,), "fail")])
def test_score__a_pass_fail_rubric_with_a_requirement(lesson: Rubric, score_passed: tuple[bool], grade: str) -> None:
    rubric = replace(lesson, grades=(Band("pass", 50, ("tests",)), Band("fail", 0)))
    tests = [Case(id="a", outcome="passed" if score_passed[0] else "failed"), Case(id="b", outcome="passed")]

    result = score(perfect(tests=tests), rubric)

    assert result.grade == grade
    assert result.bands == ["pass", "fail"]
    assert result.next_grade == (None if grade == "pass" else "pass")


def test_score__hidden_weights_give_points_per_test(lesson: Rubric) -> None:
    weighted = replace(lesson, hidden_tests={"test_ok_0": HiddenTest("test_ok_0", weight=3),
                                             "test_bad_0": HiddenTest("test_bad_0", weight=1)})
    unweighted = score(perfect(hidden_tests=_hidden(1, 1)), lesson)
    result = score(perfect(hidden_tests=_hidden(1, 1)), weighted)

    hidden = next(check for check in result.checks if check.id == "hidden_tests")
    assert hidden.points == 22.5  # 3 of 4 weights of 30 points
    assert next(check for check in unweighted.checks if check.id == "hidden_tests").points == 15.0
    assert hidden.summary == "1 of 2 tests passed"


def test_score__each_failed_hidden_test_links_its_own_sections_with_its_hint(lesson: Rubric) -> None:
    rubric = replace(lesson, hidden_tests={
        "test_bad_0": HiddenTest("test_bad_0", ("SA1",), "use expire_on_commit=False"),
        "test_ok_0": HiddenTest("test_ok_0", ("SA4",), "set DATABASE_URL")})

    hidden = next(check for check in score(perfect(hidden_tests=_hidden(1, 2)), rubric).checks
                  if check.id == "hidden_tests")

    first, second = hidden.failed_tests
    assert (first.id, first.hint, first.message, [link.title for link in first.remediation]) == (
        "test_bad_0", "use expire_on_commit=False", "boom", ["SA1. Engine and session"])
    # Not declared: the check's own sections, no hint.
    assert (second.hint, [link.title for link in second.remediation]) == ("", [
        link.title for link in lesson.section_links(lesson.checks[4].sections)])
    assert hidden.remediation[0].title == "SA1. Engine and session"


def test_score__a_passed_check_lists_no_failed_tests(lesson: Rubric) -> None:
    hidden = next(check for check in score(perfect(), lesson).checks if check.id == "hidden_tests")
    assert (hidden.failed_tests, hidden.remediation) == ([], [])


def test_shipped_rubric__a_test_that_never_commits_is_not_an_s() -> None:
    rubric = load_checked_rubric(GradingSettings())
    hidden = [Case(id=name, outcome="passed") for name in rubric.hidden_tests]
    report = perfect(tests=[Case(id="t::saves", outcome="failed", message="assert None is not None"),
                            Case(id="t::reads", outcome="passed")], hidden_tests=hidden)

    result = score(report, rubric)

    assert (result.score, result.grade) == (90.0, "C")
    assert result.held_back[0].reason == "Для S нужно: все тесты зелёные — пройдено тестов: 1 из 2"
    assert (result.next_grade, result.to_next_grade) == ("B", ["tests"])


def test_shipped_rubric__a_failed_hidden_test_says_what_to_do_in_russian() -> None:
    rubric = load_checked_rubric(GradingSettings())
    hidden = [Case(id=name, outcome="failed" if name == "test_attributes_are_readable_after_commit" else "passed",
                   message="MissingGreenlet: greenlet_spawn has not been called") for name in rubric.hidden_tests]

    check = next(c for c in score(perfect(hidden_tests=hidden), rubric).checks if c.id == "hidden_tests")

    [failed] = check.failed_tests
    assert failed.hint == "после commit атрибуты просрочены: создай sessionmaker с expire_on_commit=False"
    assert [link.title for link in failed.remediation] == ["SA1. Движок и сессия", "SA5. Паттерны"]
    assert check.points == round(30 * 12 / 14, 2)  # weights: 2 of 14 failed
