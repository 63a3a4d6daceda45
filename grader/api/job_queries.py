"""The queue as instructors see it, and the regrade request that adds to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.detail_queries import job_view
from grader.api.dto import JobView, RegradeAccepted
from grader.db.models import Job, JobStatus
from grader.queue.enqueue import enqueue_regrade


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
    """Queue a grading job in the caller's transaction; None when the submission does not exist."""
    queued = await enqueue_regrade(session, submission_id)
    if queued is None:
        return None
    job, created = queued
    return RegradeAccepted(job=job_view(job), created=created)
