"""Per-student aggregates: activity, latest and best grade, and what the class fails.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's latest or best grade. Window functions rank each student's results in SQL,
so the gradebook is two statements for any number of students.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
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


def ranked_service_results(repository: str | None = None, student: str | None = None,
                           *columns: Any) -> Any:
    """Each student's service results with their rank by recency and by score (1 = latest / best)."""
    by_student = Submission.author_login
    statement = select(
        by_student.label("login"), Result.id, Result.score, Result.grade, Result.created_at, *columns,
        func.row_number().over(partition_by=by_student, order_by=(Result.created_at.desc(), Result.id.desc()))
        .label("latest_rank"),
        func.row_number().over(partition_by=by_student, order_by=(Result.score.desc(), Result.id.asc()))
        .label("best_rank"),
    ).join(Result, Result.submission_id == Submission.id).where(Result.advisory.is_(False))
    return _scoped(statement, repository, student).subquery()


async def grades_by_student(session: AsyncSession, repository: str | None = None,
                            student: str | None = None) -> dict[str, StudentGrades]:
    ranked = ranked_service_results(repository, student)
    rows = (await session.execute(
        select(ranked).where(or_(ranked.c.latest_rank == 1, ranked.c.best_rank == 1)))).all()
    grades: dict[str, StudentGrades] = {}
    for row in rows:
        summary = GradeSummary(grade=row.grade, score=row.score, result_id=row.id, created_at=row.created_at)
        current = grades.get(row.login, StudentGrades())
        grades[row.login] = StudentGrades(
            latest=summary if row.latest_rank == 1 else current.latest,
            best=summary if row.best_rank == 1 else current.best,
        )
    return grades


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
