"""Against the previous graded push: first push, fixed, newly failing, the same."""

from __future__ import annotations

import pytest

from grader.grading.diff import compare, with_diff
from grader.grading.result import CheckGrade, GradeResult

SHA = "fedcba9876543210fedcba9876543210fedcba98"


def result(score: float, grade: str, **checks: tuple[bool, float]) -> GradeResult:
    return GradeResult(score=score, grade=grade, checks=[
        CheckGrade(id=check_id, title=check_id, passed=passed, points=points, max_points=10, summary="")
        for check_id, (passed, points) in checks.items()])


def test_with_diff__the_first_push_has_nothing_to_compare() -> None:
    current = result(80, "A", lint=(True, 10))
    assert with_diff(current, None).since_last is None


@pytest.mark.parametrize(("before", "now", "status", "delta"), [
    ((False, 4), (True, 10), "fixed", 6.0),
    ((True, 10), (False, 5), "regressed", -5.0),
    ((False, 4), (False, 7), "still_failing", 3.0),
    ((True, 10), (True, 10), "still_passing", 0.0),
])
def test_compare__each_check_against_the_previous_push(before: tuple[bool, float], now: tuple[bool, float],
                                                      status: str, delta: float) -> None:
    diff = compare(result(70, "B", lint=now), result(64.5, "C", lint=before), SHA)

    [change] = diff.checks
    assert (change.id, change.status, change.points_delta) == ("lint", status, delta)
    assert (diff.previous_sha, diff.previous_score, diff.previous_grade, diff.score_delta) == (SHA, 64.5, "C", 5.5)


def test_compare__a_check_the_previous_push_did_not_have_is_new() -> None:
    diff = compare(result(90, "S", lint=(True, 10), quiz=(False, 0)), result(90, "S", lint=(True, 10)), SHA)
    assert [(change.id, change.status) for change in diff.checks] == [("lint", "still_passing"), ("quiz", "new")]
