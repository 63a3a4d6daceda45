"""What the instructor's rules do to a graded result before anyone sees it: a late penalty, or an
override. Pure: the stored result keeps what the checks earned; these are applied when a result is
shown (comment, API, gradebook), so an extension granted or an override set later applies at once
and survives regrades.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from grader.grading.result import GradeResult, InstructorOverride, LatePenalty
from grader.grading.rubric import Rubric


def penalised_score(score: float, percent: float) -> float:
    return round(score * (100.0 - percent) / 100.0, 1)


def with_late_penalty(result: GradeResult, rubric: Rubric, days: int, percent: float,
                      deadline: datetime) -> GradeResult:
    """The result of a push received `days` days after `deadline`, `percent` of its score taken off."""
    score = penalised_score(result.score, percent)
    late = LatePenalty(days=days, percent=percent, deadline=deadline.isoformat(), score_before=result.score)
    # The checks' requirements still hold or fail as they did: the grade is the lower of the penalised
    # score's band and the one they allowed. The way to the next grade was reckoned without the
    # penalty: it no longer holds, so it is not shown.
    grade = rubric.lower(rubric.grade_for(score), result.grade)
    return msgspec.structs.replace(result, score=score, grade=grade, late=late,
                                   next_grade=None, to_next_grade=[], held_back=[])


def with_override(result: GradeResult, override: InstructorOverride) -> GradeResult:
    return msgspec.structs.replace(result, score=override.score, grade=override.grade, override=override,
                                   next_grade=None, to_next_grade=[], held_back=[])
