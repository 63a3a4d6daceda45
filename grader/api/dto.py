"""The API's wire types: what each endpoint returns, as msgspec Structs (and so in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from grader.grading.report import TamperFinding
from grader.grading.result import CheckGrade, PushDiff, UnmetRequirement

JobStatusName = Literal["queued", "running", "done", "failed", "cancelled"]


class ResultSummary(msgspec.Struct, kw_only=True):
    id: int
    score: float
    grade: str
    advisory: bool  # sent by a workflow the student controls: advice, not the service's grade
    created_at: datetime
    duration_seconds: float


class SubmissionSummary(msgspec.Struct, kw_only=True):
    id: int
    assignment: str | None
    repository: str
    pull_request: int
    student: str
    head_sha: str
    received_at: datetime
    job_status: str | None  # the newest job's status
    result: ResultSummary | None  # the newest result of the service's own grading
    advisory_result: ResultSummary | None  # the newest advisory result, shown flagged


class SubmissionPage(msgspec.Struct, kw_only=True):
    items: list[SubmissionSummary]
    next_cursor: str | None
    limit: int


class StepTiming(msgspec.Struct, kw_only=True):
    id: str
    status: str
    duration_seconds: float


class Provenance(msgspec.Struct, kw_only=True):
    """What produced the grade, so that a grade can be traced and reproduced."""

    job_id: int | None
    rubric_id: str
    rubric_version: str
    rubric_sha256: str
    image_digest: str
    tool_versions: dict[str, str]
    started_at: str


class ResultDetail(msgspec.Struct, kw_only=True):
    id: int
    score: float
    grade: str
    advisory: bool
    created_at: datetime
    duration_seconds: float
    next_grade: str | None
    to_next_grade: list[str]
    held_back: list[UnmetRequirement]  # why the grade is below the score's band
    checks: list[CheckGrade]  # a check with needs_review was withheld because of a tamper finding
    tamper: list[TamperFinding]  # code that could forge what the student's own process measures
    timings: list[StepTiming]
    provenance: Provenance
    report: dict[str, Any]  # the stored GradeResult, as the student's comment was rendered from it


class JobView(msgspec.Struct, kw_only=True):
    id: int
    submission_id: int
    kind: str
    status: str
    attempt: int
    run_after: datetime
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    last_error: str | None


class SubmissionDetail(msgspec.Struct, kw_only=True):
    id: int
    assignment: str | None
    repository: str
    pull_request: int
    pull_request_title: str
    student: str
    head_sha: str
    received_at: datetime
    check_run_id: int | None
    result: ResultDetail | None
    advisory_result: ResultDetail | None
    results: list[ResultSummary]  # every result of this submission, newest first (regrades included)
    jobs: list[JobView]
    late: LateView | None = None  # received after the student's deadline
    override: OverrideView | None = None  # the instructor's score in force
    overrides: list[OverrideView] = []  # the audit trail, newest first
    shown_score: float | None = None  # what the student's comment shows: override, or late penalty applied
    shown_grade: str | None = None
    # The newest service result against the previous graded push of the pull request (None: the first).
    since_last: PushDiff | None = None


class GradeSummary(msgspec.Struct, kw_only=True):
    grade: str
    score: float
    result_id: int


class StudentView(msgspec.Struct, kw_only=True):
    login: str
    latest: GradeSummary | None
    best: GradeSummary | None
    attempts: int
    last_activity: datetime
    submissions: list[SubmissionSummary]


StudentStatus = Literal["graded", "late", "pending", "missing"]


class GradebookRow(msgspec.Struct, gc=False):
    """Positional as well (a stored gradebook builds 10,000 of these per request, and a positional
    Struct is built several times faster): the fields' order is the wire order."""

    student: str  # the GitHub login
    student_id: str | None  # from the roster; None for a submitter who is not on it
    name: str | None
    email: str | None
    on_roster: bool  # False: pushed, but not on the roster (flagged)
    status: StudentStatus
    score: float | None  # the grade that counts: the override, or the course's policy over every push
    grade: str | None
    late_days: int  # of the push that counts (0: on time)
    overridden: bool  # the score was set by an instructor
    score_at_deadline: float | None  # the policy over the pushes received on time
    grade_at_deadline: str | None
    latest_score: float | None  # the newest graded push (late penalty included)
    latest_grade: str | None
    best_score: float | None
    best_grade: str | None
    attempts: int  # pushes, graded or not
    last_activity: datetime | None  # the newest push's receipt time


class Gradebook(msgspec.Struct, kw_only=True):
    assignment: str | None  # None without a course file: every submission, one rubric, no deadline
    title: str | None
    deadline: datetime | None
    grade_policy: str  # best or last
    rows: list[GradebookRow]


class GradeCount(msgspec.Struct, kw_only=True):
    grade: str
    students: int


class CheckFailures(msgspec.Struct, kw_only=True):
    id: str
    title: str
    failing_students: int


class SectionNeed(msgspec.Struct, kw_only=True):
    title: str
    url: str
    students: int  # how many students the latest grades send to this section


class Stats(msgspec.Struct, kw_only=True):
    students: int  # students with at least one grade from the service
    grade_distribution: list[GradeCount]
    checks: list[CheckFailures]
    sections: list[SectionNeed]


class JobPage(msgspec.Struct, kw_only=True):
    items: list[JobView]
    next_cursor: str | None
    limit: int


class RegradeAccepted(msgspec.Struct, kw_only=True):
    job: JobView
    created: bool  # False when a grading job of this submission was already queued or running


class OverrideRequest(msgspec.Struct, kw_only=True):
    score: Annotated[float, msgspec.Meta(ge=0, le=100)]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]  # why: the audit trail keeps it


class OverrideView(msgspec.Struct, kw_only=True):
    id: int
    submission_id: int
    score: float
    grade: str  # the band of the score in the assignment's rubric
    note: str
    by: str  # the name of the API token that set it
    at: datetime


class LateView(msgspec.Struct, kw_only=True):
    days: int
    penalty_percent: float
    deadline: datetime  # the deadline that applied (the student's extension, if any)


class AssignmentRegradeRequest(msgspec.Struct, kw_only=True):
    student: Annotated[str, msgspec.Meta(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")] | None = None
    all: bool = False  # every push, not only the newest of each pull request


class AssignmentRegradeAccepted(msgspec.Struct, kw_only=True):
    assignment: str
    submissions: int  # the pushes asked for
    queued: int  # new grading jobs, queued behind new pushes
    already_queued: int  # pushes whose grading was queued or running already


class ExtensionRequest(msgspec.Struct, kw_only=True):
    student: Annotated[str, msgspec.Meta(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    until: Annotated[str, msgspec.Meta(max_length=40)]  # ISO 8601 with a zone, or a date (end of that day)


class ExtensionView(msgspec.Struct, kw_only=True):
    assignment: str
    student: str
    until: datetime
    granted_by: str
    created_at: datetime


class AssignmentView(msgspec.Struct, kw_only=True):
    id: str
    title: str
    repositories: list[str]
    deadline: datetime | None
    late_penalty_percent_per_day: float
    max_late_days: int | None
    rubric_id: str
    rubric_version: str
    bands: list[str]
    students: int  # who pushed to it
    submissions: int


class AssignmentDetail(AssignmentView, kw_only=True):
    extensions: list[ExtensionView]


class AssignmentList(msgspec.Struct, kw_only=True):
    course: str | None  # None: no course file (GRADER_COURSE), so no assignments
    grade_policy: str
    assignments: list[AssignmentView]


class RosterEntryView(msgspec.Struct, kw_only=True):
    github: str
    student_id: str
    name: str
    email: str


class Roster(msgspec.Struct, kw_only=True):
    students: list[RosterEntryView]
