"""The API's wire types: what each endpoint returns, as msgspec Structs (and so in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from grader.grading.report import TamperFinding
from grader.grading.result import CheckGrade

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


class GradebookRow(msgspec.Struct, kw_only=True):
    student: str
    latest_grade: str | None
    latest_score: float | None
    best_grade: str | None
    best_score: float | None
    attempts: int  # pushes graded or not
    last_activity: datetime


class Gradebook(msgspec.Struct, kw_only=True):
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
