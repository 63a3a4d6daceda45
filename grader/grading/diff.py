"""What changed since the previous graded push of the same pull request: per check fixed, newly failing,
still failing; the score's delta. Pure: both results come from the database (grader.db.history)."""

from __future__ import annotations

import msgspec

from grader.grading.result import CheckChange, CheckGrade, GradeResult, PushDiff

FIXED, REGRESSED, STILL_FAILING, STILL_PASSING, NEW = "fixed", "regressed", "still_failing", "still_passing", "new"


def _status(now: CheckGrade, before: CheckGrade | None) -> str:
    if before is None:
        return NEW
    if now.passed:
        return STILL_PASSING if before.passed else FIXED
    return REGRESSED if before.passed else STILL_FAILING


def compare(current: GradeResult, previous: GradeResult, previous_sha: str) -> PushDiff:
    """`current` against `previous` (both as the checks earned them, before penalties or overrides)."""
    before = {check.id: check for check in previous.checks}
    changes = [CheckChange(id=check.id, status=_status(check, before.get(check.id)),
                           points_delta=round(check.points - before[check.id].points, 2) if check.id in before
                           else 0.0)
               for check in current.checks]
    return PushDiff(previous_sha=previous_sha, previous_score=previous.score, previous_grade=previous.grade,
                    score_delta=round(current.score - previous.score, 1), checks=changes)


def with_diff(result: GradeResult, previous: GradeResult | None, previous_sha: str = "") -> GradeResult:
    """The result with `since_last` set; unchanged for the pull request's first graded push."""
    if previous is None:
        return result
    return msgspec.structs.replace(result, since_last=compare(result, previous, previous_sha))
