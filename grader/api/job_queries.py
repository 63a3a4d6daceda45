"""The queue as instructors see it, and the regrade request that adds to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.detail_queries import job_view
from grader.api.dto import JobView, RegradeAccepted
from grader.db.models import Job, JobKind, JobStatus, Submission, utcnow

_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


async def list_jobs(session: AsyncSession, status: str | None, before_id: int | None,
                    limit: int) -> list[JobView]:
    """Newest first, one statement."""
    statement = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(Job.status == JobStatus(status))
    if before_id is not None:
        statement = statement.where(Job.id < before_id)
    return [job_view(job) for job in await session.scalars(statement)]


async def request_regrade(session: AsyncSession, submission_id: int) -> RegradeAccepted | None:
    """Queue a grading job in the caller's transaction; None when the submission does not exist.

    A grading job of this submission that is still queued or running is returned instead of a second one:
    two clicks on "regrade" grade the code once. On PostgreSQL the submission row is locked first, so
    concurrent requests take turns (SQLite's BEGIN IMMEDIATE already serialises writers).
    """
    locked = await session.scalar(select(Submission.id).where(Submission.id == submission_id).with_for_update())
    if locked is None:
        return None
    active = await session.scalar(
        select(Job)
        .where(Job.submission_id == submission_id, Job.kind == JobKind.GRADE, Job.status.in_(_ACTIVE))
        .order_by(Job.id.desc()).limit(1))
    if active is not None:
        return RegradeAccepted(job=job_view(active), created=False)
    now = utcnow()
    job = Job(submission_id=submission_id, kind=JobKind.GRADE, status=JobStatus.QUEUED, attempt=0,
              run_after=now, created_at=now, updated_at=now)
    session.add(job)
    await session.flush()
    return RegradeAccepted(job=job_view(job), created=True)
