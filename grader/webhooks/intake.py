"""Store pull-request pushes: deliveries, submissions and grading jobs, a batch in one transaction.

Idempotent under concurrency: the delivery id and the (pull request, head SHA) pair are unique, and
both are written with INSERT … ON CONFLICT DO NOTHING, so duplicates racing each other (in one batch
or in concurrent transactions) create nothing twice. Rows are written in key order, so concurrent
transactions on PostgreSQL lock them in the same order; the pull-request upsert's row lock orders
pushes to the same PR, so "a newer push cancels the older queued job" holds across transactions too.

This is the hot path of the service: a batch of any size costs about six multi-row Core statements,
built once per dialect and executed with bound parameters.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.dialect import insert_for
from grader.db.models import Delivery, Job, JobKind, JobStatus, PullRequest, Repository, Submission, utcnow
from grader.webhooks.events import PullRequestEvent

SUPERSEDED = "superseded by a newer push to the same pull request"
DELIVERIES, REPOSITORIES, PULL_REQUESTS = Delivery.__table__, Repository.__table__, PullRequest.__table__
SUBMISSIONS, JOBS = Submission.__table__, Job.__table__


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
class Push:
    """One verified delivery of a pull-request push."""

    delivery_id: str
    event: PullRequestEvent

    @property
    def repository_key(self) -> int:
        return self.event.repository.id

    @property
    def head_sha(self) -> str:
        return self.event.pull_request.head.sha


@dataclass(frozen=True)
class _Statements:
    deliveries: Any
    repositories_by_github_id: Any
    new_repositories: Any
    update_repository: Any
    pull_requests: Any
    submissions: Any
    existing_submissions: Any
    graded_submissions: Any
    cancel_queued: Any
    jobs: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert = insert_for(dialect)
    pull_requests = insert(PULL_REQUESTS)
    return _Statements(
        deliveries=insert(DELIVERIES).on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(DELIVERIES.c.delivery_id),
        repositories_by_github_id=select(REPOSITORIES.c.github_id, REPOSITORIES.c.id, REPOSITORIES.c.full_name,
                                         REPOSITORIES.c.installation_id)
        .where(REPOSITORIES.c.github_id.in_(bindparam("github_ids", expanding=True))),
        new_repositories=insert(REPOSITORIES).on_conflict_do_nothing(index_elements=["github_id"]),
        update_repository=update(REPOSITORIES).where(REPOSITORIES.c.id == bindparam("repository_id"))
        .values(full_name=bindparam("new_full_name"), installation_id=bindparam("new_installation_id")),
        pull_requests=pull_requests.on_conflict_do_update(
            index_elements=["repository_id", "number"],
            set_={"latest_head_sha": pull_requests.excluded.latest_head_sha, "title": pull_requests.excluded.title,
                  "updated_at": pull_requests.excluded.updated_at},
        ).returning(PULL_REQUESTS.c.repository_id, PULL_REQUESTS.c.number, PULL_REQUESTS.c.id),
        submissions=insert(SUBMISSIONS).on_conflict_do_nothing(index_elements=["pull_request_id", "head_sha"])
        .returning(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha, SUBMISSIONS.c.id),
        existing_submissions=select(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha, SUBMISSIONS.c.id)
        .where(tuple_(SUBMISSIONS.c.pull_request_id, SUBMISSIONS.c.head_sha)
               .in_(bindparam("keys", expanding=True))),
        graded_submissions=select(JOBS.c.submission_id).distinct()
        .where(JOBS.c.submission_id.in_(bindparam("submission_ids", expanding=True)),
               JOBS.c.kind == JobKind.GRADE.value),
        cancel_queued=update(JOBS).where(
            JOBS.c.submission_id.in_(select(SUBMISSIONS.c.id).where(
                SUBMISSIONS.c.pull_request_id.in_(bindparam("pull_request_ids", expanding=True)))),
            JOBS.c.status == JobStatus.QUEUED.value, JOBS.c.kind == JobKind.GRADE.value,
        ).values(status=JobStatus.CANCELLED.value, finished_at=bindparam("now"), updated_at=bindparam("now"),
                 last_error=SUPERSEDED),
        jobs=insert(JOBS).returning(JOBS.c.submission_id, JOBS.c.id),
    )


async def record_push(session: AsyncSession, delivery_id: str, event: PullRequestEvent) -> IntakeResult:
    """Store one push in the caller's open transaction."""
    [result] = await record_pushes(session, [Push(delivery_id, event)])
    return result


async def record_pushes(session: AsyncSession, pushes: Sequence[Push]) -> list[IntakeResult]:
    """Store `pushes` (in arrival order) in the caller's open transaction; one result per push."""
    connection = await session.connection()
    sql = _statements(connection.dialect.name)
    now = utcnow()
    fresh = await _new_deliveries(connection, sql, pushes, now)
    if not fresh:
        return [IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)] * len(pushes)
    repository_ids = await _repository_ids(connection, sql, fresh, now)
    pull_request_ids = await _upsert_pull_requests(connection, sql, fresh, repository_ids, now)
    keys = [(pull_request_ids[index], push.head_sha) for index, push in fresh.items()]
    submissions, created = await _submissions(connection, sql, fresh, keys, now)
    to_grade = created | await _ungraded(connection, sql, set(submissions.values()) - created)
    jobs, cancelled = await _queue_grading(connection, sql, keys, submissions, to_grade, now)
    return [_result(index, fresh, pull_request_ids, submissions, jobs, cancelled) for index in range(len(pushes))]


def _result(index: int, fresh: dict[int, Push], pull_request_ids: dict[int, int], submissions: dict[Any, int],
            jobs: dict[int, int], cancelled: int) -> IntakeResult:
    push = fresh.get(index)
    if push is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)
    submission_id = submissions[(pull_request_ids[index], push.head_sha)]
    job_id = jobs.pop(submission_id, None)  # the first push of a submission owns its job
    if job_id is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_SHA, submission_id=submission_id)
    return IntakeResult(IntakeOutcome.QUEUED, submission_id, job_id, cancelled)


async def _new_deliveries(connection: Any, sql: _Statements, pushes: Sequence[Push], now: datetime) -> dict[int, Push]:
    """The pushes whose delivery id is new, by position; repeats in the batch or the table drop out."""
    first_seen: dict[str, int] = {}
    for index, push in enumerate(pushes):
        first_seen.setdefault(push.delivery_id, index)
    rows = await connection.execute(sql.deliveries, [
        {"delivery_id": delivery_id, "event": "pull_request", "action": pushes[index].event.action,
         "received_at": now} for delivery_id, index in sorted(first_seen.items())])
    inserted = {row.delivery_id for row in rows}
    return {index: pushes[index] for delivery_id, index in sorted(first_seen.items(), key=lambda item: item[1])
            if delivery_id in inserted}


async def _repository_ids(connection: Any, sql: _Statements, fresh: dict[int, Push], now: datetime) -> dict[int, int]:
    """GitHub repository id → our id. Read before writing: every push of a course hits the same
    repository row, and an upsert would lock it, queueing a course's deliveries behind each other."""
    latest = {push.repository_key: push.event for push in fresh.values()}
    known = await _known_repositories(connection, sql, latest)
    missing = sorted(set(latest) - set(known))
    if missing:
        await connection.execute(sql.new_repositories, [
            {**_repository_values(latest[github_id]), "created_at": now} for github_id in missing])
        known.update(await _known_repositories(connection, sql, {key: latest[key] for key in missing}))
    for github_id, row in known.items():
        values = _repository_values(latest[github_id])
        if (row.full_name, row.installation_id) != (values["full_name"], values["installation_id"]):
            await connection.execute(sql.update_repository, {
                "repository_id": row.id, "new_full_name": values["full_name"],
                "new_installation_id": values["installation_id"]})
    return {github_id: row.id for github_id, row in known.items()}


async def _known_repositories(connection: Any, sql: _Statements, events: dict[int, PullRequestEvent]) -> dict[int, Any]:
    rows = await connection.execute(sql.repositories_by_github_id, {"github_ids": sorted(events)})
    return {row.github_id: row for row in rows}


def _repository_values(event: PullRequestEvent) -> dict[str, Any]:
    return {"github_id": event.repository.id, "full_name": event.repository.full_name,
            "installation_id": event.installation.id if event.installation else None}


async def _upsert_pull_requests(connection: Any, sql: _Statements, fresh: dict[int, Push],
                                repository_ids: dict[int, int], now: datetime) -> dict[int, int]:
    """Upsert each PR once (its last push in the batch wins); returns push position → PR id."""
    latest: dict[tuple[int, int], PullRequestEvent] = {}
    for push in fresh.values():
        latest[(repository_ids[push.repository_key], push.event.pull_request.number)] = push.event
    rows = await connection.execute(sql.pull_requests, [
        {"repository_id": key[0], "number": key[1], "author_login": event.pull_request.user.login,
         "title": event.pull_request.title[:300], "latest_head_sha": event.pull_request.head.sha, "updated_at": now}
        for key, event in sorted(latest.items())])
    ids = {(row.repository_id, row.number): row.id for row in rows}
    return {index: ids[(repository_ids[push.repository_key], push.event.pull_request.number)]
            for index, push in fresh.items()}


async def _submissions(connection: Any, sql: _Statements, fresh: dict[int, Push], keys: list[tuple[int, str]],
                       now: datetime) -> tuple[dict[tuple[int, str], int], set[int]]:
    """(PR id, head SHA) → submission id for every push, and the ids this batch created."""
    first: dict[tuple[int, str], Push] = {}
    for key, push in zip(keys, fresh.values(), strict=True):
        first.setdefault(key, push)
    rows = await connection.execute(sql.submissions, [
        {"pull_request_id": key[0], "head_sha": key[1], "author_login": push.event.pull_request.user.login,
         "received_at": now, "delivery_id": push.delivery_id} for key, push in sorted(first.items())])
    ids = {(row.pull_request_id, row.head_sha): row.id for row in rows}
    created = set(ids.values())
    known_before = sorted(set(first) - set(ids))
    if known_before:
        rows = await connection.execute(sql.existing_submissions, {"keys": known_before})
        ids.update({(row.pull_request_id, row.head_sha): row.id for row in rows})
    return ids, created


async def _ungraded(connection: Any, sql: _Statements, submission_ids: set[int]) -> set[int]:
    """Known submissions without a grading job of the service's own (first stored by a workflow report)."""
    if not submission_ids:
        return set()
    rows = await connection.execute(sql.graded_submissions, {"submission_ids": sorted(submission_ids)})
    return submission_ids - {row.submission_id for row in rows}


async def _queue_grading(connection: Any, sql: _Statements, keys: list[tuple[int, str]],
                         submissions: dict[tuple[int, str], int], to_grade: set[int],
                         now: datetime) -> tuple[dict[int, int], int]:
    """Cancel the queued jobs of the PRs pushed to, then queue a job for each PR's newest submission;
    an older submission of the same batch gets its job already cancelled. Returns submission → job."""
    newest: dict[int, int] = {}
    ordered: list[int] = []
    for key in keys:
        submission_id = submissions[key]
        if submission_id in to_grade and submission_id not in ordered:
            ordered.append(submission_id)
            newest[key[0]] = submission_id
    if not ordered:
        return {}, 0
    cancelled = await connection.execute(sql.cancel_queued, {"pull_request_ids": sorted(newest), "now": now})
    latest = set(newest.values())
    rows = await connection.execute(sql.jobs, [_job_values(submission_id, submission_id in latest, now)
                                               for submission_id in ordered])
    return {row.submission_id: row.id for row in rows}, cancelled.rowcount


def _job_values(submission_id: int, queued: bool, now: datetime) -> dict[str, Any]:
    status = JobStatus.QUEUED if queued else JobStatus.CANCELLED
    return {"submission_id": submission_id, "kind": JobKind.GRADE.value, "status": status.value, "attempt": 0,
            "run_after": now, "created_at": now, "updated_at": now,
            "finished_at": None if queued else now, "last_error": None if queued else SUPERSEDED}
