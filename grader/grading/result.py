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


class FailedTest(msgspec.Struct, frozen=True):
    """One failed sub-test of a check (a hidden test), with what the rubric says to do about it."""

    id: str
    hint: str = ""  # the rubric's one line, in its language; empty when the rubric declares none
    message: str = ""  # the test's own failure message (a few lines), for the collapsed details
    remediation: list[Remediation] = []


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
    failed_tests: list[FailedTest] = []  # hidden tests that failed, each with its hint and sections


class UnmetRequirement(msgspec.Struct, frozen=True):
    """A band the score reaches but the grade does not, because a check it requires did not pass."""

    band: str
    check: str  # the check's id
    reason: str  # one line in the rubric's language, e.g. "S needs every test green: 1 of 2 tests passed"


class CheckChange(msgspec.Struct, frozen=True):
    """One check against the previous graded push of the same pull request."""

    id: str
    status: str  # "fixed", "regressed" (newly failing), "still_failing", "still_passing", "new"
    points_delta: float = 0.0


class PushDiff(msgspec.Struct, frozen=True):
    """What changed since the previous graded push of the pull request, from the stored results."""

    previous_sha: str
    previous_score: float
    previous_grade: str
    score_delta: float
    checks: list[CheckChange] = []


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
    # Why the grade is below the score's band: each check a better band requires that did not pass.
    held_back: list[UnmetRequirement] = []
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
    since_last: PushDiff | None = None  # likewise, against the previous graded push of the pull request


def grade_to_dict(result: GradeResult) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(result)
    return data


def grade_from_dict(data: dict[str, Any]) -> GradeResult:
    return msgspec.convert(data, GradeResult)
