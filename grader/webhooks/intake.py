"""Store a pull-request push: delivery, submission and grading job in one transaction.

Idempotent under concurrency: the delivery id and the (pull request, head SHA) pair are unique, and
both are written with INSERT … ON CONFLICT DO NOTHING, so duplicates racing each other create nothing
twice. The pull-request row is upserted first; on PostgreSQL that row lock orders concurrent pushes
to the same PR, so "a newer push cancels the older queued job" holds for them too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Delivery, Job, JobKind, JobStatus, PullRequest, Repository, Submission, utcnow
from grader.webhooks.events import PullRequestEvent


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


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def record_push(session: AsyncSession, delivery_id: str, event: PullRequestEvent) -> IntakeResult:
    """Write the push in the caller's open transaction (the caller owns `session.begin()`)."""
    now = utcnow()
    delivery_pk = await session.scalar(
        _insert(session, Delivery)
        .values(delivery_id=delivery_id, event="pull_request", action=event.action, received_at=now)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.id)
    )
    if delivery_pk is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)

    pull_request_id = await _upsert_pull_request(session, event, now)
    head_sha = event.pull_request.head.sha
    submission_id = await session.scalar(
        _insert(session, Submission)
        .values(pull_request_id=pull_request_id, head_sha=head_sha,
                author_login=event.pull_request.user.login, received_at=now)
        .on_conflict_do_nothing(index_elements=["pull_request_id", "head_sha"])
        .returning(Submission.id)
    )
    if submission_id is None:
        existing = await session.scalar(
            select(Submission.id).where(Submission.pull_request_id == pull_request_id,
                                        Submission.head_sha == head_sha)
        )
        await _link_delivery(session, delivery_pk, existing)
        return IntakeResult(IntakeOutcome.DUPLICATE_SHA, submission_id=existing)

    job_id = await session.scalar(
        _insert(session, Job)
        .values(submission_id=submission_id, kind=JobKind.GRADE, status=JobStatus.QUEUED, attempt=0,
                run_after=now, created_at=now, updated_at=now)
        .returning(Job.id)
    )
    cancelled = await _cancel_older_queued_jobs(session, pull_request_id, job_id, now)
    await _link_delivery(session, delivery_pk, submission_id)
    return IntakeResult(IntakeOutcome.QUEUED, submission_id, job_id, cancelled)


async def _upsert_pull_request(session: AsyncSession, event: PullRequestEvent, now: Any) -> int:
    repo = event.repository
    installation_id = event.installation.id if event.installation else None
    repo_insert = _insert(session, Repository).values(
        github_id=repo.id, full_name=repo.full_name, installation_id=installation_id, created_at=now
    )
    repository_id = await session.scalar(
        repo_insert.on_conflict_do_update(
            index_elements=["github_id"],
            set_={"full_name": repo_insert.excluded.full_name,
                  "installation_id": repo_insert.excluded.installation_id},
        ).returning(Repository.id)
    )
    pr = event.pull_request
    pr_insert = _insert(session, PullRequest).values(
        repository_id=repository_id, number=pr.number, author_login=pr.user.login, title=pr.title[:300],
        latest_head_sha=pr.head.sha, updated_at=now,
    )
    return await session.scalar(
        pr_insert.on_conflict_do_update(
            index_elements=["repository_id", "number"],
            set_={"latest_head_sha": pr_insert.excluded.latest_head_sha, "title": pr_insert.excluded.title,
                  "updated_at": pr_insert.excluded.updated_at},
        ).returning(PullRequest.id)
    )


async def _cancel_older_queued_jobs(session: AsyncSession, pull_request_id: int, newest_job_id: int,
                                    now: Any) -> int:
    older = select(Submission.id).where(Submission.pull_request_id == pull_request_id)
    result = await session.execute(
        update(Job)
        .where(Job.submission_id.in_(older), Job.status == JobStatus.QUEUED, Job.kind == JobKind.GRADE,
               Job.id != newest_job_id)
        .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now,
                last_error="superseded by a newer push to the same pull request")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def _link_delivery(session: AsyncSession, delivery_pk: int, submission_id: int | None) -> None:
    await session.execute(
        update(Delivery).where(Delivery.id == delivery_pk).values(submission_id=submission_id)
        .execution_options(synchronize_session=False)
    )
