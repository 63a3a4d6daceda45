"""Submissions as rows: one SQL statement per page, whatever its size.

The newest service result, the newest advisory result and the newest job of each submission are
joined through correlated "max id of this submission" subqueries: the database walks submissions
newest first and looks up only the rows of the page (by index), so a page costs the same however
large the tables grow, nothing is loaded row by row, and the heavy report JSON is never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Label, Row, ScalarSelect, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from grader.api.dto import ResultSummary, SubmissionSummary
from grader.db.models import Job, PullRequest, Repository, Result, Submission


@dataclass(frozen=True)
class SubmissionFilters:
    repository: str | None = None
    assignment: str | None = None
    student: str | None = None
    pr: int | None = None
    grade: str | None = None
    since: datetime | None = None
    before_id: int | None = None  # keyset cursor: only ids below this one


def _newest_result_id(advisory: bool) -> ScalarSelect[int]:
    return (select(func.max(Result.id)).where(Result.submission_id == Submission.id,
                                              Result.advisory.is_(advisory))
            .correlate(Submission).scalar_subquery())


def _newest_job_id() -> ScalarSelect[int]:
    return select(func.max(Job.id)).where(Job.submission_id == Submission.id).correlate(Submission).scalar_subquery()


_SERVICE = aliased(Result, name="service_result")
_ADVISORY = aliased(Result, name="advisory_result")
_JOB = aliased(Job, name="newest_job")


def _result_columns(result: type[Result], prefix: str) -> list[Label[Any]]:
    names = ("id", "score", "grade", "advisory", "created_at", "duration_seconds")
    return [getattr(result, name).label(f"{prefix}_{name}") for name in names]


def summary_select() -> Select[Any]:
    """Submissions with repository, PR, newest job and newest results, as plain columns."""
    return (
        select(Submission.id, Submission.assignment_id, Repository.full_name, PullRequest.number,
               Submission.author_login, Submission.head_sha, Submission.received_at, _JOB.status.label("job_status"),
               *_result_columns(_SERVICE, "service"), *_result_columns(_ADVISORY, "advisory"))
        .join(PullRequest, PullRequest.id == Submission.pull_request_id)
        .join(Repository, Repository.id == PullRequest.repository_id)
        .outerjoin(_SERVICE, _SERVICE.id == _newest_result_id(False))
        .outerjoin(_ADVISORY, _ADVISORY.id == _newest_result_id(True))
        .outerjoin(_JOB, _JOB.id == _newest_job_id())
    )


def _filtered(statement: Select[Any], filters: SubmissionFilters) -> Select[Any]:
    conditions: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "repository": lambda value: Repository.full_name == value,
        "assignment": lambda value: Submission.assignment_id == value,
        "student": lambda value: Submission.author_login == value,
        "pr": lambda value: PullRequest.number == value,
        "grade": lambda value: _SERVICE.grade == value,
        "since": lambda value: Submission.received_at >= value,
        "before_id": lambda value: Submission.id < value,
    }
    for name, condition in conditions.items():
        value = getattr(filters, name)
        if value is not None:
            statement = statement.where(condition(value))
    return statement


def _result_summary(row: Row[Any], prefix: str) -> ResultSummary | None:
    if getattr(row, f"{prefix}_id") is None:
        return None
    fields = ("id", "score", "grade", "advisory", "created_at", "duration_seconds")
    return ResultSummary(**{name: getattr(row, f"{prefix}_{name}") for name in fields})


def summary_from_row(row: Row[Any]) -> SubmissionSummary:
    status = row.job_status
    return SubmissionSummary(
        id=row.id, assignment=row.assignment_id, repository=row.full_name, pull_request=row.number,
        student=row.author_login, head_sha=row.head_sha, received_at=row.received_at,
        job_status=None if status is None else str(getattr(status, "value", status)),
        result=_result_summary(row, "service"), advisory_result=_result_summary(row, "advisory"),
    )


async def list_submissions(session: AsyncSession, filters: SubmissionFilters,
                           limit: int | None) -> list[SubmissionSummary]:
    """Newest first; `limit` rows at most (None: all that match)."""
    statement = _filtered(summary_select(), filters).order_by(Submission.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    rows = (await session.execute(statement)).all()
    return [summary_from_row(row) for row in rows]
