"""A graded result as it is shown: the instructor's override if there is one, else the late penalty of
the push, else the result as the checks earned it. Pure."""

from __future__ import annotations

from datetime import datetime

import msgspec

from grader.course.config import Assignment
from grader.course.deadlines import Lateness, lateness
from grader.grading.adjust import with_late_penalty, with_override
from grader.grading.result import GradeResult, InstructorOverride
from grader.grading.rubric import Rubric


def presented(result: GradeResult, rubric: Rubric, assignment: Assignment | None, received_at: datetime,
              extension: datetime | None, override: InstructorOverride | None) -> GradeResult:
    return adjusted(result, rubric, lateness(assignment, received_at, extension), override)


def adjusted(result: GradeResult, rubric: Rubric, late: Lateness | None,
             override: InstructorOverride | None) -> GradeResult:
    """`presented`, once the push's lateness is known."""
    if override is not None:
        return with_override(result, msgspec.structs.replace(override, score_before=result.score))
    if late is None:
        return result
    return with_late_penalty(result, rubric, late.days, late.penalty_percent, late.deadline)


def instructor_override(score: float, grade: str, note: str, by: str, at: datetime) -> InstructorOverride:
    """An override as stored (its `score_before` is filled in by `presented`)."""
    return InstructorOverride(score=score, grade=grade, note=note, by=by, at=at.isoformat(), score_before=0.0)
