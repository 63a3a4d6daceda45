"""Store pull-request pushes: deliveries, submissions and grading jobs, a batch in one transaction.

Idempotent under concurrency: the delivery id and the (pull request, head SHA) pair are unique, and
both are written with INSERT … ON CONFLICT DO NOTHING, so duplicates racing each other (in one batch
or in concurrent transactions) create nothing twice. The pull-request rows are upserted in key order
and stay locked until the transaction ends, so "a newer push cancels the older queued job" holds
across transactions too.

"Newer" is GitHub's word (the payload's `pull_request.updated_at`), never the order of arrival: only
the PR's head after the batch is queued for grading (a late, older push gets a job already cancelled),
and a push that moves the head back to a SHA graded before (A → B → A) is graded again, so what is
graded and shown last is always the PR's current head.

This is the hot path of the service: a batch of any size costs a handful of multi-row Core
statements, built once per dialect and executed with bound parameters (a new push to a known
repository: the delivery, the pull request, the submission, the cancelling of the PR's queued grading
and the new job, between BEGIN and COMMIT; `tests/webhooks/test_intake_statements.py` counts them).
The code is synchronous so that on SQLite the whole transaction runs at once, with no hand-over
between threads (`grader.db.writer`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert, Select, bindparam, select

from grader.course.config import Course
from grader.course.matching import match_repository
from grader.db.dialect import insert_for
from grader.db.models import Base, JobKind, JobStatus, utcnow
from grader.db.prebuilt import insert_rows
from grader.db.records import PushRecord, RepositoryCache, StoredPushes, store_pushes
from grader.queue.enqueue import enqueue_pushes
from grader.webhooks.events import PullRequestEvent

DELIVERIES, JOBS = Base.metadata.tables["deliveries"], Base.metadata.tables["jobs"]
log = logging.getLogger("grader.webhooks")


class IntakeOutcome(enum.Enum):
    QUEUED = "queued"
    DUPLICATE_DELIVERY = "duplicate_delivery"
    DUPLICATE_SHA = "duplicate_sha"
    NO_ASSIGNMENT = "no_assignment"  # a course file is set and no assignment claims the repository


@dataclass(frozen=True)
class IntakeResult:
    outcome: IntakeOutcome
    submission_id: int | None = None
    job_id: int | None = None
    cancelled_jobs: int = 0


@dataclass(frozen=True)
class Push:
    """One verified delivery of a pull-request push, stamped with the service's clock when it arrived:
    deadlines are judged by this time, never by a commit date the student sets."""

    delivery_id: str
    event: PullRequestEvent
    received_at: datetime = field(default_factory=utcnow)
    assignment_id: str | None = None

    def record(self) -> PushRecord:
        event = self.event
        return PushRecord(repository_id=event.repository.id, repository=event.repository.full_name,
                          installation_id=event.installation.id if event.installation else None,
                          pr_number=event.pull_request.number, author_login=event.pull_request.user.login,
                          head_sha=event.pull_request.head.sha, title=event.pull_request.title,
                          delivery_id=self.delivery_id, received_at=self.received_at,
                          assignment_id=self.assignment_id, updated_at=event.pull_request.updated_at)


@cache
def _new_deliveries_statement(dialect: str) -> Insert:
    return (insert_for(dialect, DELIVERIES).on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(DELIVERIES.c.delivery_id))


@cache
def _grading_jobs_statement() -> Select[tuple[int, str]]:
    return (select(JOBS.c.submission_id, JOBS.c.status).distinct()
            .where(JOBS.c.submission_id.in_(bindparam("submission_ids", expanding=True)),
                   JOBS.c.kind == JobKind.GRADE.value))


def _assigned(pushes: Sequence[Push], course: Course | None) -> dict[int, Push]:
    """The pushes to store, by position, each with its assignment; without a course file, all of them.
    A push to a repository no assignment claims is left out, and the reason logged."""
    if course is None:
        return dict(enumerate(pushes))
    kept: dict[int, Push] = {}
    for index, push in enumerate(pushes):
        match = match_repository(course, push.event.repository.full_name)
        if match.assignment_id is None:
            log.info("delivery not graded", extra={"delivery_id": push.delivery_id, "reason": match.reason})
            continue
        kept[index] = replace(push, assignment_id=match.assignment_id)
    return kept


def record_pushes(connection: Connection, pushes: Sequence[Push], course: Course | None = None,
                  repositories: RepositoryCache | None = None) -> list[IntakeResult]:
    """Store `pushes` (in arrival order) in the caller's open transaction; one result per push.
    `repositories`: the caller's cache of committed repository rows (see `RepositoryCache`). The caller
    rings the job bell once the transaction has committed (`queued_any`)."""
    assigned = _assigned(pushes, course)
    results = {index: IntakeResult(IntakeOutcome.NO_ASSIGNMENT) for index in range(len(pushes))
               if index not in assigned}
    if assigned:
        positions = list(assigned)
        stored = _record_assigned(connection, list(assigned.values()), repositories or RepositoryCache())
        results.update(zip(positions, stored, strict=True))
    return [results[index] for index in range(len(pushes))]


def queued_any(results: Sequence[IntakeResult]) -> bool:
    return any(result.job_id is not None for result in results)


def _record_assigned(connection: Connection, pushes: Sequence[Push],
                     repositories: RepositoryCache) -> list[IntakeResult]:
    now = utcnow()
    fresh = _new_deliveries(connection, pushes, now)
    if not fresh:
        return [IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)] * len(pushes)
    stored = store_pushes(connection, [push.record() for push in fresh.values()], now, authoritative=True,
                          known=repositories.rows)
    repositories.pending.update(stored.repositories)
    heads = _head_submissions(stored, [push.event.pull_request.head.sha for push in fresh.values()])
    jobs_of = _grading_jobs(connection, set(heads.values()) - stored.created)
    ordered, newest = _grading_order(stored, heads, jobs_of)
    jobs, cancelled = enqueue_pushes(connection, ordered, newest, now)
    by_position = dict(zip(fresh, stored.submission_ids, strict=True))
    return [_result(by_position.get(index), jobs, cancelled) for index in range(len(pushes))]


def _head_submissions(stored: StoredPushes, shas: list[str]) -> dict[int, int]:
    """PR id -> the submission of its head after the batch, for PRs whose head is among the batch's pushes."""
    heads: dict[int, int] = {}
    pairs = zip(stored.pull_request_ids, stored.submission_ids, shas, strict=True)
    for pull_request_id, submission_id, sha in pairs:
        if stored.heads.get(pull_request_id) == sha:
            heads[pull_request_id] = submission_id
    return heads


def _needs_grading(submission_id: int, pull_request_id: int, stored: StoredPushes,
                   jobs_of: dict[int, set[str]]) -> bool:
    """The PR's head is graded when it is new, was never graded by the service, or the head just moved
    back to it (A -> B -> A) and no grading of it is still queued or running."""
    statuses = jobs_of.get(submission_id, set())
    if submission_id in stored.created or not statuses:
        return True
    active = {JobStatus.QUEUED.value, JobStatus.RUNNING.value}
    return pull_request_id in stored.moved and not statuses & active


def _grading_order(stored: StoredPushes, heads: dict[int, int],
                   jobs_of: dict[int, set[str]]) -> tuple[list[int], dict[int, int]]:
    """The submissions that get a grading job, in push order, and each PR's head among them (queued;
    the others are new pushes that are not the head, whose jobs are created already cancelled)."""
    newest = {pr: sub for pr, sub in heads.items() if _needs_grading(sub, pr, stored, jobs_of)}
    ordered: list[int] = []
    for submission_id in stored.submission_ids:
        wanted = submission_id in stored.created or submission_id in newest.values()
        if wanted and submission_id not in ordered:
            ordered.append(submission_id)
    return ordered, newest


def _result(submission_id: int | None, jobs: dict[int, int], cancelled: int) -> IntakeResult:
    if submission_id is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_DELIVERY)
    job_id = jobs.pop(submission_id, None)  # the first push of a submission owns its job
    if job_id is None:
        return IntakeResult(IntakeOutcome.DUPLICATE_SHA, submission_id=submission_id)
    return IntakeResult(IntakeOutcome.QUEUED, submission_id, job_id, cancelled)


def _new_deliveries(connection: Connection, pushes: Sequence[Push], now: datetime) -> dict[int, Push]:
    """The pushes whose delivery id is new, by position; repeats in the batch or the table drop out."""
    first_seen: dict[str, int] = {}
    for index, push in enumerate(pushes):
        first_seen.setdefault(push.delivery_id, index)
    rows = insert_rows(connection, _new_deliveries_statement(connection.dialect.name), [
        {"delivery_id": delivery_id, "event": "pull_request", "action": pushes[index].event.action,
         "received_at": now} for delivery_id, index in sorted(first_seen.items())])
    inserted = {row.delivery_id for row in rows}
    return {index: pushes[index] for delivery_id, index in sorted(first_seen.items(), key=lambda item: item[1])
            if delivery_id in inserted}


def _grading_jobs(connection: Connection, submission_ids: set[int]) -> dict[int, set[str]]:
    """The statuses of the service's grading jobs of known submissions (none: known only from a
    workflow report)."""
    if not submission_ids:
        return {}
    found: dict[int, set[str]] = {}
    for row in connection.execute(_grading_jobs_statement(), {"submission_ids": sorted(submission_ids)}):
        found.setdefault(row.submission_id, set()).add(str(row.status))
    return found
