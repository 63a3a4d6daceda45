"""Every job is created here: grading a push, grading again on request, publishing a result.

Each function writes in the caller's open transaction, so a job is queued exactly when the rows it
is about are stored, or not at all; each but `enqueue_pushes` marks its session so that the job bell
rings once that transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.dialect import insert_for
from grader.db.models import Base, Job, JobKind, JobPriority, JobStatus, Submission, utcnow
from grader.db.prebuilt import insert_rows
from grader.db.results import affected_rows
from grader.queue.wakeup import note_queued

SUPERSEDED = "superseded by a newer push to the same pull request"
JOBS, SUBMISSIONS = Base.metadata.tables["jobs"], Base.metadata.tables["submissions"]
_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


@cache
def _cancel_queued() -> Update:
    return update(JOBS).where(
        JOBS.c.submission_id.in_(select(SUBMISSIONS.c.id).where(
            SUBMISSIONS.c.pull_request_id.in_(bindparam("pull_request_ids", expanding=True)))),
        JOBS.c.status == JobStatus.QUEUED.value, JOBS.c.kind == JobKind.GRADE.value,
    ).values(status=JobStatus.CANCELLED.value, finished_at=bindparam("now"), updated_at=bindparam("now"),
             last_error=SUPERSEDED)


@cache
def _insert_jobs(dialect: str) -> Insert:
    return insert_for(dialect, JOBS).returning(JOBS.c.submission_id, JOBS.c.id)


def _grading_values(submission_id: int, queued: bool, now: datetime) -> dict[str, Any]:
    status = JobStatus.QUEUED if queued else JobStatus.CANCELLED
    return {"submission_id": submission_id, "kind": JobKind.GRADE.value, "status": status.value, "attempt": 0,
            "priority": JobPriority.PUSH.value, "run_after": now, "created_at": now, "updated_at": now,
            "finished_at": None if queued else now, "last_error": None if queued else SUPERSEDED}


def enqueue_pushes(connection: Connection, ordered: Sequence[int], newest: dict[int, int],
                   now: datetime) -> tuple[dict[int, int], int]:
    """Grading jobs for pushed submissions (`ordered`, in push order), several in one statement.

    The queued grading jobs of the pull requests pushed to (`newest`: pull request → its newest
    submission) are cancelled first; then only each PR's newest submission is queued, and an older
    one of the same batch gets its job already cancelled. Returns (submission → job, cancelled jobs).
    Synchronous (the intake's transaction runs whole in one thread on SQLite), so no session marks it:
    the caller rings the job bell once the transaction has committed.
    """
    if not ordered:
        return {}, 0
    cancelled = 0
    if newest:
        cancelled = affected_rows(connection.execute(_cancel_queued(), {"pull_request_ids": sorted(newest),
                                                                        "now": now}))
    latest = set(newest.values())
    rows = insert_rows(connection, _insert_jobs(connection.dialect.name),
                       [_grading_values(submission_id, submission_id in latest, now) for submission_id in ordered])
    return {row.submission_id: row.id for row in rows}, cancelled


async def enqueue_regrade(session: AsyncSession, submission_id: int) -> tuple[Job, bool] | None:
    """A grading job for an instructor's regrade, and whether it is new; None when there is no such
    submission. Regrades wait behind new pushes (`JobPriority.REGRADE`).

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
        return active, False
    note_queued(session)
    now = utcnow()
    job = Job(submission_id=submission_id, kind=JobKind.GRADE, status=JobStatus.QUEUED, attempt=0,
              priority=JobPriority.REGRADE, run_after=now, created_at=now, updated_at=now)
    session.add(job)
    await session.flush()
    return job, True


@dataclass(frozen=True)
class QueuedRegrades:
    created: int  # new grading jobs
    already_queued: int  # submissions whose grading was already queued or running


async def enqueue_regrades(session: AsyncSession, submission_ids: Sequence[int]) -> QueuedRegrades:
    """Low-priority grading jobs for many submissions at once (an assignment, a student): one statement
    to find the ones already being graded, one to queue the rest."""
    wanted = sorted(set(submission_ids))
    if not wanted:
        return QueuedRegrades(0, 0)
    active = set(await session.scalars(
        select(Job.submission_id).where(Job.submission_id.in_(wanted), Job.kind == JobKind.GRADE,
                                        Job.status.in_(_ACTIVE))))
    now = utcnow()
    fresh = [submission_id for submission_id in wanted if submission_id not in active]
    if fresh:
        values = [{**_grading_values(submission_id, True, now), "priority": JobPriority.REGRADE.value}
                  for submission_id in fresh]
        await session.execute(JOBS.insert(), values)
        note_queued(session)
    return QueuedRegrades(len(fresh), len(active))


def enqueue_publish(session: AsyncSession, submission_id: int) -> None:
    """A job that shows the submission's newest outcome on GitHub: its graded result, or why it
    could not be graded."""
    session.add(Job(submission_id=submission_id, kind=JobKind.PUBLISH, priority=JobPriority.PUBLISH))
    note_queued(session)
