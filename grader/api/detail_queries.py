"""One submission in full: three statements (the submission, its results, its jobs), and two more for
how the course shows it (overrides, extension)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.actions import override_view
from grader.api.dto import (
    JobView,
    LateView,
    Provenance,
    ResultDetail,
    ResultSummary,
    StepTiming,
    SubmissionDetail,
)
from grader.course.config import Course
from grader.course.deadlines import lateness
from grader.course.presentation import instructor_override, presented
from grader.db.course_rows import extension_until, overrides_of
from grader.db.history import previous_graded_push
from grader.db.models import Job, PullRequest, Repository, Result, Submission
from grader.grading.diff import compare
from grader.grading.result import GradeResult, PushDiff, grade_from_dict
from grader.grading.rubric import RubricSet


def read_grade(report: dict[str, Any]) -> GradeResult:
    """The stored GradeResult; a report of an older or foreign shape still shows its score and grade."""
    try:
        return grade_from_dict(report)
    except (msgspec.ValidationError, TypeError):
        return GradeResult(score=float(report.get("score", 0) or 0), grade=str(report.get("grade", "")),
                           checks=[])


def _provenance(result: Result, grade: GradeResult) -> Provenance:
    report = grade.report
    return Provenance(job_id=result.job_id, rubric_id=grade.rubric_id, rubric_version=grade.rubric_version,
                      rubric_sha256=report.rubric_sha256, image_digest=report.image_digest,
                      tool_versions=dict(report.tool_versions), started_at=report.started_at)


def result_detail(result: Result) -> ResultDetail:
    grade = read_grade(result.report if isinstance(result.report, dict) else {})
    timings = [StepTiming(id=step.id, status=str(step.status), duration_seconds=step.duration_seconds)
               for step in grade.report.steps]
    return ResultDetail(
        id=result.id, score=result.score, grade=result.grade, advisory=result.advisory,
        created_at=result.created_at, duration_seconds=result.duration_seconds,
        next_grade=grade.next_grade, to_next_grade=list(grade.to_next_grade), held_back=list(grade.held_back),
        checks=list(grade.checks),
        tamper=list(grade.report.tamper), timings=timings, provenance=_provenance(result, grade), report=result.report,
    )


def result_summary(result: Result) -> ResultSummary:
    return ResultSummary(id=result.id, score=result.score, grade=result.grade, advisory=result.advisory,
                         created_at=result.created_at, duration_seconds=result.duration_seconds)


def job_view(job: Job) -> JobView:
    return JobView(id=job.id, submission_id=job.submission_id, kind=str(job.kind), status=str(job.status),
                   attempt=job.attempt, run_after=job.run_after, created_at=job.created_at,
                   updated_at=job.updated_at, finished_at=job.finished_at, last_error=job.last_error)


def _newest(results: list[Result], advisory: bool) -> ResultDetail | None:
    match = next((result for result in results if result.advisory is advisory), None)
    return result_detail(match) if match else None


async def get_submission_detail(session: AsyncSession, submission_id: int) -> SubmissionDetail | None:
    row = (await session.execute(
        select(Submission, PullRequest.number, PullRequest.title, Repository.full_name)
        .join(PullRequest, PullRequest.id == Submission.pull_request_id)
        .join(Repository, Repository.id == PullRequest.repository_id)
        .where(Submission.id == submission_id)
    )).first()
    if row is None:
        return None
    submission = row[0]
    results = list(await session.scalars(
        select(Result).where(Result.submission_id == submission_id).order_by(Result.id.desc())))
    jobs = await session.scalars(
        select(Job).where(Job.submission_id == submission_id).order_by(Job.id.desc()))
    newest = next((result for result in results if not result.advisory), None)
    return SubmissionDetail(
        id=submission.id, assignment=submission.assignment_id, repository=row.full_name, pull_request=row.number,
        pull_request_title=row.title,
        student=submission.author_login, head_sha=submission.head_sha, received_at=submission.received_at,
        check_run_id=submission.check_run_id, result=_newest(results, False),
        advisory_result=_newest(results, True), results=[result_summary(result) for result in results],
        jobs=[job_view(job) for job in jobs], since_last=await _since_last(session, submission_id, newest),
    )


async def _since_last(session: AsyncSession, submission_id: int, newest: Result | None) -> PushDiff | None:
    """The newest service result against the previous graded push of the pull request. One statement."""
    if newest is None:
        return None
    previous = await previous_graded_push(session, submission_id, newest.id)
    if previous is None:
        return None
    before = read_grade(previous[1] if isinstance(previous[1], dict) else {})
    current = read_grade(newest.report if isinstance(newest.report, dict) else {})
    return compare(current, before, previous[0])


async def with_course_view(session: AsyncSession, detail: SubmissionDetail, course: Course | None,
                           rubrics: RubricSet) -> SubmissionDetail:
    """The submission as the course shows it: its lateness, the overrides (newest first, the first in
    force) and the score and grade the student's comment shows. Two statements."""
    overrides = [override_view(row) for row in await overrides_of(session, detail.id)]
    extension = await extension_until(session, detail.assignment, detail.student)
    assignment = course.assignment(detail.assignment) if course and detail.assignment else None
    late = lateness(assignment, detail.received_at, extension)
    late_view = (LateView(days=late.days, penalty_percent=late.penalty_percent, deadline=late.deadline)
                 if late else None)
    shown_score = shown_grade = None
    if detail.result is not None:
        stored = detail.result
        override = overrides[0] if overrides else None
        graded = GradeResult(score=stored.score, grade=stored.grade, checks=[])
        shown = presented(graded, rubrics.for_assignment(detail.assignment), assignment, detail.received_at,
                          extension, instructor_override(override.score, override.grade, override.note,
                                                         override.by, override.at) if override else None)
        shown_score, shown_grade = shown.score, shown.grade
    return msgspec.structs.replace(detail, late=late_view, override=overrides[0] if overrides else None,
                                   overrides=overrides, shown_score=shown_score, shown_grade=shown_grade)
