"""Store a pull-request push: delivery, submission and grading job in one transaction.

Idempotent under concurrency: the delivery id and the (pull request, head SHA) pair are unique, and
both are written with INSERT … ON CONFLICT DO NOTHING, so duplicates racing each other create nothing
twice. The pull-request row is upserted before the job; on PostgreSQL that row lock orders concurrent
pushes to the same PR, so "a newer push cancels the older queued job" holds for them too.

This is the hot path of the service: six Core statements, built once per dialect and executed with
bound parameters, so a delivery costs six round trips and no ORM bookkeeping.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Delivery, Job, JobKind, JobStatus, PullRequest, Repository, Submission, utcnow
from grader.webhooks.events import PullRequestEvent

SUPERSEDED = "superseded by a newer push to the same pull request"


class IntakeOutcome(enum.Enum):
    QUEUED = "queued"
    DUPLICATE_DELIVERY = "duplicate_delivery"
    DUPLICATE_SHA = "duplicate_sha"


@dataclass(frozen=True)
class IntakeResult:
    outcome: IntakeOutcome
    submission_id: int | None = None
    job_id: int | None = None
    cancelled_jobs: int = 0


@dataclass(frozen=True)
class _Statements:
    delivery: Any
    repository_by_github_id: Any
    new_repository: Any
    update_repository: Any
    pull_request: Any
    submission: Any
    existing_submission: Any
    grade_job_of: Any
    cancel_queued: Any
    job: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    repositories = Repository.__table__.c
    pull_request = insert(PullRequest.__table__)
    return _Statements(
        delivery=insert(Delivery.__table__).on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.__table__.c.id),
        repository_by_github_id=select(repositories.id, repositories.full_name, repositories.installation_id)
        .where(repositories.github_id == bindparam("github_id")),
        new_repository=insert(Repository.__table__).on_conflict_do_nothing(index_elements=["github_id"])
        .returning(repositories.id),
        update_repository=update(Repository.__table__).where(repositories.id == bindparam("repository_id"))
        .values(full_name=bindparam("new_full_name"), installation_id=bindparam("new_installation_id")),
        pull_request=pull_request.on_conflict_do_update(
            index_elements=["repository_id", "number"],
            set_={"latest_head_sha": pull_request.excluded.latest_head_sha, "title": pull_request.excluded.title,
                  "updated_at": pull_request.excluded.updated_at},
        ).returning(PullRequest.__table__.c.id),
        submission=insert(Submission.__table__)
        .on_conflict_do_nothing(index_elements=["pull_request_id", "head_sha"])
        .returning(Submission.__table__.c.id),
        existing_submission=select(Submission.__table__.c.id).where(
            Submission.__table__.c.pull_request_id == bindparam("pull_request_id"),
            Submission.__table__.c.head_sha == bindparam("head_sha")),
        grade_job_of=select(Job.__table__.c.id).where(Job.__table__.c.submission_id == bindparam("submission_id"),
                                                      Job.__table__.c.kind == JobKind.GRADE.value).limit(1),
        cancel_queued=update(Job.__table__).where(
            Job.__table__.c.submission_id.in_(
                select(Submission.__table__.c.id)
                .where(Submission.__table__.c.pull_request_id == bindparam("pull_request_id"))),
            Job.__table__.c.status == JobStatus.QUEUED.value,
            Job.__table__.c.kind == JobKind.GRADE.value,
        ).values(status=JobStatus.CANCELLED.value, finished_at=bindparam("now"), updated_at=bindparam("now"),
                 last_error=SUPERSEDED),
        job=insert(Job.__table__).returning(Job.__table__.c.id),
    )


async def record_push(session: AsyncSession, delivery_id: str, event: PullRequestEvent) -> IntakeResult:
    """Write the push in the caller's open transaction (the caller owns `session.begin()`)."""
    connection = await session.connection()
    sql = _statements(connection.dialect.name)
    now = utcnow()
    inserted = await connection.scalar(sql.delivery, {"delivery_id": delivery_id, "event": "pull_request",
                                                      "action": event.action, "received_at": now})
    if inserted is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)

    pull_request_id = await _upsert_pull_request(connection, sql, event, now)
    head_sha = event.pull_request.head.sha
    submission_id = await connection.scalar(sql.submission, {
        "pull_request_id": pull_request_id, "head_sha": head_sha, "author_login": event.pull_request.user.login,
        "received_at": now, "delivery_id": delivery_id})
    if submission_id is None:
        submission_id = await connection.scalar(sql.existing_submission,
                                                {"pull_request_id": pull_request_id, "head_sha": head_sha})
        # A submission first stored by a workflow report has no grading job of the service's own yet.
        if await connection.scalar(sql.grade_job_of, {"submission_id": submission_id}) is not None:
            return IntakeResult(IntakeOutcome.DUPLICATE_SHA, submission_id=submission_id)
    return await _queue_grading(connection, sql, pull_request_id, submission_id, now)


async def _queue_grading(connection: Any, sql: _Statements, pull_request_id: int, submission_id: int,
                         now: datetime) -> IntakeResult:
    cancelled = await connection.execute(sql.cancel_queued, {"pull_request_id": pull_request_id, "now": now})
    job_id = await connection.scalar(sql.job, {
        "submission_id": submission_id, "kind": JobKind.GRADE.value, "status": JobStatus.QUEUED.value,
        "attempt": 0, "run_after": now, "created_at": now, "updated_at": now})
    return IntakeResult(IntakeOutcome.QUEUED, submission_id, job_id, cancelled.rowcount)


async def _upsert_pull_request(connection: Any, sql: _Statements, event: PullRequestEvent, now: datetime) -> int:
    repository_id = await _repository_id(connection, sql, event, now)
    pr = event.pull_request
    return await connection.scalar(sql.pull_request, {
        "repository_id": repository_id, "number": pr.number, "author_login": pr.user.login,
        "title": pr.title[:300], "latest_head_sha": pr.head.sha, "updated_at": now})


async def _repository_id(connection: Any, sql: _Statements, event: PullRequestEvent, now: datetime) -> int:
    """Read before writing: every push of a course hits the same repository row, and an upsert would
    lock it, queueing all of a course's deliveries behind each other on PostgreSQL."""
    values = {"github_id": event.repository.id, "full_name": event.repository.full_name,
              "installation_id": event.installation.id if event.installation else None}
    known = (await connection.execute(sql.repository_by_github_id, values)).first()
    if known is None:
        inserted = await connection.scalar(sql.new_repository, {**values, "created_at": now})
        if inserted is not None:
            return inserted
        known = (await connection.execute(sql.repository_by_github_id, values)).first()
    if (known.full_name, known.installation_id) != (values["full_name"], values["installation_id"]):
        await connection.execute(sql.update_repository, {
            "repository_id": known.id, "new_full_name": values["full_name"],
            "new_installation_id": values["installation_id"]})
    return known.id
