"""Deadlines by receipt time, late penalties, and where a student stands: pure decisions."""

from __future__ import annotations

from datetime import timedelta

from grader.course.deadlines import late_days, lateness, penalty_percent, student_deadline
from grader.course.presentation import instructor_override, presented
from grader.course.standing import GradedPush, Mark, standing
from grader.grading.result import CheckGrade, GradeResult
from tests.conftest import course_rubrics, sample_course

HW1 = sample_course().assignments[0]  # 10 % a day, at most 3 days
RUBRIC = course_rubrics().for_assignment("hw1")
DEADLINE = HW1.deadline
assert DEADLINE is not None


def test_late_days__every_started_day_counts_and_on_time_is_zero() -> None:
    assert late_days(DEADLINE, DEADLINE) == 0
    assert late_days(DEADLINE + timedelta(seconds=1), DEADLINE) == 1
    assert late_days(DEADLINE + timedelta(days=1), DEADLINE) == 1
    assert late_days(DEADLINE + timedelta(days=1, seconds=1), DEADLINE) == 2
    assert late_days(DEADLINE + timedelta(days=30), None) == 0


def test_penalty__per_day_until_the_last_accepted_day_then_everything() -> None:
    assert [penalty_percent(HW1, days) for days in (0, 1, 3, 4)] == [0.0, 10.0, 30.0, 100.0]


def test_extension__replaces_the_deadline_for_that_student_only() -> None:
    extension = DEADLINE + timedelta(days=2)
    assert student_deadline(HW1, extension) == extension
    assert lateness(HW1, DEADLINE + timedelta(days=1), extension) is None
    late = lateness(HW1, DEADLINE + timedelta(days=1), None)
    assert late is not None
    assert (late.days, late.penalty_percent, late.deadline) == (1, 10.0, DEADLINE)


def graded(score: float) -> GradeResult:
    check = CheckGrade(id="tests", title="Tests", passed=score >= 90, points=score, max_points=100.0, summary="")
    return GradeResult(score=score, grade=RUBRIC.grade_for(score), bands=RUBRIC.band_names, checks=[check],
                       next_grade="S", to_next_grade=["tests"])


def test_presented__late_penalty_cuts_the_score_and_regrades_the_band() -> None:
    shown = presented(graded(90.0), RUBRIC, HW1, DEADLINE + timedelta(hours=30), None, None)
    assert (shown.score, shown.grade) == (72.0, "B")
    assert shown.late is not None
    assert (shown.late.days, shown.late.percent, shown.late.score_before) == (2, 20.0, 90.0)
    assert (shown.next_grade, shown.to_next_grade) == (None, [])


def test_presented__an_override_wins_over_lateness() -> None:
    override = instructor_override(85.0, "A", "good work, the runner was down", "ta", DEADLINE)
    shown = presented(graded(40.0), RUBRIC, HW1, DEADLINE + timedelta(days=10), None, override)
    assert (shown.score, shown.grade, shown.late) == (85.0, "A", None)
    assert shown.override is not None
    assert shown.override.score_before == 40.0


def test_standing__best_policy_grade_at_deadline_latest_and_late_status() -> None:
    pushes = [GradedPush(1, 70.0, "B"), GradedPush(2, 95.0, "S"), GradedPush(3, 100.0, "S", late_days=1)]
    state = standing(pushes, pushed=True, newest_push_late=True, override=None, assignment=HW1, rubric=RUBRIC)
    assert state.status == "graded"
    assert state.final == Mark(95.0, "S", 2)
    assert state.at_deadline == Mark(95.0, "S", 2)
    assert state.latest == Mark(90.0, "S", 3, late_days=1)
    last = standing(pushes, pushed=True, newest_push_late=True, override=None, assignment=HW1, rubric=RUBRIC,
                    policy="last")
    assert (last.status, last.final, last.at_deadline) == ("late", Mark(90.0, "S", 3, 1), Mark(95.0, "S", 2))


def test_standing__missing_pending_late_and_overridden() -> None:
    def state(pushes: list[GradedPush], pushed: bool = True, late: bool = False, override: Mark | None = None) -> str:
        return standing(pushes, pushed=pushed, newest_push_late=late, override=override, assignment=HW1,
                        rubric=RUBRIC).status

    assert state([], pushed=False) == "missing"
    assert state([]) == "pending"
    assert state([], late=True) == "late"
    assert state([GradedPush(1, 50.0, "C", late_days=2)]) == "late"
    overridden = standing([GradedPush(1, 50.0, "C")], pushed=True, newest_push_late=False,
                          override=Mark(88.0, "A", 1), assignment=HW1, rubric=RUBRIC)
    assert (overridden.status, overridden.final, overridden.overridden) == ("graded", Mark(88.0, "A", 1), True)
