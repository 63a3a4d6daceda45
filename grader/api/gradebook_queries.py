"""Per-student aggregates: activity, latest and best grade, and what the class fails.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's latest or best grade. "Latest" is the newest result (the highest id, as in
the submission list); "best" the highest score, the earlier result on a tie. Both come from one narrow
scan of the service's results reduced in one pass (cheaper than two window sorts in SQL on either
database), so the gradebook is three statements for any number of students.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.dto import GradebookRow, GradeSummary
from grader.db.models import PullRequest, Repository, Result, Submission


@dataclass(frozen=True)
class Activity:
    attempts: int
    last_activity: datetime


@dataclass(frozen=True)
class StudentGrades:
    latest: GradeSummary | None = None
    best: GradeSummary | None = None


def _scoped(statement: Select[Any], repository: str | None, student: str | None) -> Select[Any]:
    if repository is not None:
        statement = (statement.join(PullRequest, PullRequest.id == Submission.pull_request_id)
                     .join(Repository, Repository.id == PullRequest.repository_id)
                     .where(Repository.full_name == repository))
    if student is not None:
        statement = statement.where(Submission.author_login == student)
    return statement


async def activity_by_student(session: AsyncSession, repository: str | None = None,
                              student: str | None = None) -> dict[str, Activity]:
    statement = _scoped(
        select(Submission.author_login, func.count(Submission.id), func.max(Submission.received_at))
        .group_by(Submission.author_login), repository, student)
    rows = (await session.execute(statement)).all()
    return {login: Activity(count, last) for login, count, last in rows}


def _service_results(repository: str | None, student: str | None, *columns: Any) -> Select[Any]:
    statement = (select(*columns).select_from(Submission)
                 .join(Result, Result.submission_id == Submission.id).where(Result.advisory.is_(False)))
    return _scoped(statement, repository, student)


def latest_result_ids(repository: str | None = None, student: str | None = None) -> Select[Any]:
    """The id of each student's newest service result."""
    return _service_results(repository, student, func.max(Result.id)).group_by(Submission.author_login)


def _reduce(rows: Any) -> tuple[dict[str, int], dict[str, int]]:
    """(login, result id, score) rows -> the latest and the best result id of each student."""
    latest: dict[str, int] = {}
    best: dict[str, tuple[float, int]] = {}
    for login, result_id, score in rows:
        if result_id > latest.get(login, 0):
            latest[login] = result_id
        current = best.get(login)
        if current is None or score > current[0] or (score == current[0] and result_id < current[1]):
            best[login] = (score, result_id)
    return latest, {login: result_id for login, (_, result_id) in best.items()}


async def grades_by_student(session: AsyncSession, repository: str | None = None,
                            student: str | None = None) -> dict[str, StudentGrades]:
    """Each student's latest and best service grade: a narrow scan reduced in one pass, then the winners.

    Only (login, id, score) cross the wire for every result; grade and time only for the winners.
    """
    connection = await session.connection()  # plain rows: no ORM loading machinery for a 10k-row scan
    scan = _service_results(repository, student, Submission.author_login, Result.id, Result.score)
    latest, best = _reduce(await connection.execute(scan))
    winners = set(latest.values()) | set(best.values())
    if not winners:
        return {}
    details = await connection.execute(
        select(Result.id, Result.score, Result.grade, Result.created_at).where(Result.id.in_(winners)))
    by_id = {row.id: GradeSummary(grade=row.grade, score=row.score, result_id=row.id, created_at=row.created_at)
             for row in details}
    return {login: StudentGrades(latest=by_id[latest[login]], best=by_id[best[login]]) for login in latest}


def gradebook_row(login: str, activity: Activity, grades: StudentGrades) -> GradebookRow:
    latest, best = grades.latest, grades.best
    return GradebookRow(
        student=login,
        latest_grade=latest.grade if latest else None, latest_score=latest.score if latest else None,
        best_grade=best.grade if best else None, best_score=best.score if best else None,
        attempts=activity.attempts, last_activity=activity.last_activity,
    )


async def gradebook_rows(session: AsyncSession, repository: str | None = None) -> list[GradebookRow]:
    """One row per student who pushed at least once, ordered by login."""
    activity = await activity_by_student(session, repository)
    grades = await grades_by_student(session, repository)
    return [gradebook_row(login, activity[login], grades.get(login, StudentGrades()))
            for login in sorted(activity)]
