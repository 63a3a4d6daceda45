"""A graded submission: the rubric applied to a report. What the student sees and the gradebook stores.

`grader check --format json` prints `GradeResult` as JSON; `results.report` stores the same object.
"""

from __future__ import annotations

from typing import Any

import msgspec

from grader.grading.report import Report


class Remediation(msgspec.Struct, frozen=True):
    title: str
    url: str


class CheckGrade(msgspec.Struct, frozen=True):
    id: str
    title: str
    passed: bool
    points: float
    max_points: float
    summary: str  # one line
    remediation: list[Remediation] = []
    # The tamper scan found code that could forge what this check measures: not credited until an
    # instructor has looked (grader.grading.tamper).
    needs_review: bool = False


class LatePenalty(msgspec.Struct, frozen=True):
    """The push reached the service after the student's deadline: what that cost."""

    days: int
    percent: float  # of the earned score
    deadline: str  # ISO 8601, the deadline that applied (the student's extension, if any)
    score_before: float  # the score the checks earned


class InstructorOverride(msgspec.Struct, frozen=True):
    """An instructor set the score and grade by hand; it replaces what the checks (and lateness) gave."""

    score: float
    grade: str
    note: str
    by: str  # the API token's name
    at: str  # ISO 8601
    score_before: float


class GradeResult(msgspec.Struct, kw_only=True):
    score: float  # 0-100
    grade: str  # a band of the rubric (`bands`)
    bands: list[str] = []  # the rubric's grade bands, best first
    checks: list[CheckGrade]
    next_grade: str | None = None  # the next band up, None at the top
    to_next_grade: list[str] = []  # ids of the fewest failing checks whose fixing reaches next_grade
    # Titles of the rubric's checks left out of this grading (the private ones, in a run of the
    # reusable workflow): the service grades them, and its result is the authoritative one.
    graded_by_service: list[str] = []
    rubric_id: str = ""
    rubric_version: str = ""
    language: str = "en"
    lint_shown: int = 100  # lint findings the comment lists (the rubric's cap); the rest are counted
    report: Report = msgspec.field(default_factory=Report)
    late: LatePenalty | None = None  # set when shown, never stored: lateness depends on extensions granted later
    override: InstructorOverride | None = None  # likewise, from the newest override of the submission


def grade_to_dict(result: GradeResult) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(result)
    return data


def grade_from_dict(data: dict[str, Any]) -> GradeResult:
    return msgspec.convert(data, GradeResult)
