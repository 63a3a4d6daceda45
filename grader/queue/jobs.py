"""The durable job queue: claim with a lease, heartbeat, finish under an attempt fence, retry, release.

Every function runs in the caller's open transaction. On PostgreSQL the claim uses
`FOR UPDATE SKIP LOCKED`, so many workers claim different jobs without waiting on each other; on
SQLite the claim transaction starts with BEGIN IMMEDIATE (see `grader.db.engine`), which serialises
claimers. Claims go by `JobPriority` (publishing, then new pushes, then regrades), then by due time.
A job whose lease ran out (its worker died) is claimable again; each claim increments
`attempt`, and every later write checks it, so a stale worker can no longer write anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Job, JobKind, JobStatus, Result, Submission, utcnow
from grader.db.results import affected_rows
from grader.db.summaries import record_service_result
from grader.queue.enqueue import enqueue_publish
from grader.settings import QueueSettings


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    submission_id: int
    kind: JobKind
    attempt: int
    worker_id: str


@dataclass(frozen=True)
class JobOutput:
    """What a finished grading job stores: the graded result of the submission.

    `then_publish` queues a publish job in the same transaction as the result, so a stored result is
    always followed by its feedback on GitHub, however often publishing has to be retried.
    """

    score: float
    grade: str
    report: dict[str, Any]
    duration_seconds: float
    then_publish: bool = False


class Reschedule(Exception):
    """Try the job again after `seconds` (e.g. GitHub's Retry-After). It counts as an attempt unless
    `counts` is False (waiting for a rate limit's window is not a failure of the job)."""

    def __init__(self, seconds: float, reason: str, *, counts: bool = True) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.counts = counts


class FinalFailure(Exception):
    """The job cannot succeed by retrying (e.g. the pull request is gone): fail it with the reason."""


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now),
    )


async def claim_next(session: AsyncSession, worker_id: str, settings: QueueSettings) -> ClaimedJob | None:
    """Claim the most urgent runnable job (lowest priority number, then oldest), or a job whose worker's
    lease ran out; None when there is none."""
    while True:
        now = utcnow()
        row = (await session.execute(
            select(Job.id, Job.submission_id, Job.kind, Job.attempt, Job.status)
            .where(_claimable(now))
            .order_by(Job.priority, Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )).first()
        if row is None:
            return None
        if row.status == JobStatus.RUNNING and row.attempt >= settings.max_attempts:
            lost = ClaimedJob(row.id, row.submission_id, row.kind, row.attempt, worker_id)
            await fail_for_good(session, lost, f"the worker was lost on each of {row.attempt} attempts")
            continue
        attempt = row.attempt + 1
        await session.execute(
            update(Job).where(Job.id == row.id)
            .values(status=JobStatus.RUNNING, attempt=attempt, lease_owner=worker_id,
                    lease_expires_at=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return ClaimedJob(row.id, row.submission_id, row.kind, attempt, worker_id)


def _fenced(job: ClaimedJob) -> ColumnElement[bool]:
    return and_(Job.id == job.id, Job.attempt == job.attempt, Job.status == JobStatus.RUNNING)


async def heartbeat(session: AsyncSession, job: ClaimedJob, settings: QueueSettings) -> bool:
    """Extend the lease; False means the job is no longer ours (lease lost, attempt fenced out)."""
    now = utcnow()
    result = await session.execute(
        update(Job).where(_fenced(job))
        .values(lease_expires_at=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def complete(session: AsyncSession, job: ClaimedJob, output: JobOutput | None) -> bool:
    """Mark the job done and store its result, only if this attempt still owns the job."""
    if not await _finish(session, job.id, job.attempt, JobStatus.DONE, None, utcnow()):
        return False
    if output is not None:
        result = Result(submission_id=job.submission_id, job_id=job.id, score=output.score, grade=output.grade,
                        report=output.report, duration_seconds=output.duration_seconds)
        session.add(result)
        await session.flush()
        await record_service_result(session, job.submission_id, result.id, output.score, output.grade,
                                    output.report)
        # The newest result is the submission's grade (a regrade replaces the earlier grading).
        await session.execute(update(Submission).where(Submission.id == job.submission_id)
                              .values(score=output.score, grade=output.grade)
                              .execution_options(synchronize_session=False))
        if output.then_publish:
            enqueue_publish(session, job.submission_id)
    await session.flush()
    return True


async def fail_for_good(session: AsyncSession, job: ClaimedJob, reason: str) -> bool:
    """End the job failed with `reason`. A grading job that ends so is followed by a publish job, which
    completes the push's check run saying why it was not graded."""
    if not await _finish(session, job.id, job.attempt, JobStatus.FAILED, reason, utcnow()):
        return False
    if job.kind is JobKind.GRADE:
        enqueue_publish(session, job.submission_id)
    return True


def retry_delay_seconds(attempt: int, settings: QueueSettings) -> float:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


async def fail_or_retry(session: AsyncSession, job: ClaimedJob, reason: str, settings: QueueSettings,
                        delay_seconds: float | None = None) -> JobStatus | None:
    """After an infrastructure failure: queue again with backoff (or after `delay_seconds`), or fail for
    good at the limit. Returns the job's new status, or None when the attempt was already fenced out.
    """
    now = utcnow()
    if job.attempt >= settings.max_attempts:
        done = await fail_for_good(session, job, f"gave up after {job.attempt} attempts: {reason}")
        return JobStatus.FAILED if done else None
    delay = retry_delay_seconds(job.attempt, settings) if delay_seconds is None else delay_seconds
    run_after = now + timedelta(seconds=delay)
    result = await session.execute(
        update(Job).where(_fenced(job))
        .values(status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None, run_after=run_after,
                last_error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return JobStatus.QUEUED if affected_rows(result) == 1 else None


async def postpone(session: AsyncSession, job: ClaimedJob, seconds: float, reason: str) -> bool:
    """Queue the job again after `seconds` without using up an attempt: the attempt number goes back to
    what it was before this claim, so the next claim is this attempt again. Fenced like every write;
    while the job is queued no worker can write to it, so no stale worker can use the old number."""
    now = utcnow()
    result = await session.execute(
        update(Job).where(_fenced(job))
        .values(status=JobStatus.QUEUED, attempt=job.attempt - 1, lease_owner=None, lease_expires_at=None,
                run_after=now + timedelta(seconds=seconds), last_error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def release(session: AsyncSession, job: ClaimedJob) -> bool:
    """Give the job back unfinished (worker shutting down): runnable again at once."""
    now = utcnow()
    result = await session.execute(
        update(Job).where(_fenced(job))
        .values(status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None, run_after=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1


async def _finish(session: AsyncSession, job_id: int, attempt: int, status: JobStatus, reason: str | None,
                  now: datetime) -> bool:
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.status == JobStatus.RUNNING)
        .values(status=status, finished_at=now, updated_at=now, lease_owner=None, lease_expires_at=None,
                last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return affected_rows(result) == 1
