"""One submission in full: three statements (the submission, its results, its jobs)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.dto import JobView, Provenance, ResultDetail, ResultSummary, StepTiming, SubmissionDetail
from grader.db.models import Job, PullRequest, Repository, Result, Submission
from grader.grading.result import GradeResult, grade_from_dict


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
        next_grade=grade.next_grade, to_next_grade=list(grade.to_next_grade), checks=list(grade.checks),
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
    return SubmissionDetail(
        id=submission.id, repository=row.full_name, pull_request=row.number, pull_request_title=row.title,
        student=submission.author_login, head_sha=submission.head_sha, received_at=submission.received_at,
        check_run_id=submission.check_run_id, result=_newest(results, False),
        advisory_result=_newest(results, True), results=[result_summary(result) for result in results],
        jobs=[job_view(job) for job in jobs],
    )
