"""Per-student aggregates: activity, latest and best grade, and what the class fails.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's latest or best grade. "Latest" is the newest result (the highest id, as in
the submission list); "best" the highest score, the earlier result on a tie. Both come from one
index-only scan of the service's results reduced in one pass (cheaper than two window sorts in SQL on
either database), so the gradebook is two statements for any number of students.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.dto import GradebookRow, GradeSummary
from grader.db.models import PullRequest, Repository, Result, Submission

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class Activity:
    attempts: int
    last_activity: datetime


@dataclass(frozen=True)
class StudentGrades:
    latest: GradeSummary | None = None
    best: GradeSummary | None = None


def _scoped(statement: Select[*Columns], repository: str | None, student: str | None) -> Select[*Columns]:
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


def _is_better(candidate: GradeSummary, than: GradeSummary | None) -> bool:
    if than is None or candidate.score != than.score:
        return than is None or candidate.score > than.score
    return candidate.result_id < than.result_id


async def grades_by_student(session: AsyncSession, repository: str | None = None,
                            student: str | None = None) -> dict[str, StudentGrades]:
    """Each student's latest and best service grade: one narrow scan, reduced in a single pass.

    The scan reads only (login, id, score, grade), which the covering index on results holds.
    """
    connection = await session.connection()  # plain rows: no ORM loading machinery for a 10k-row scan
    scan = _service_results(repository, student, Submission.author_login, Result.id, Result.score, Result.grade)
    grades: dict[str, StudentGrades] = {}
    for login, result_id, score, grade in await connection.execute(scan):
        summary = GradeSummary(grade=grade, score=score, result_id=result_id)
        current = grades.get(login)
        if current is None:
            grades[login] = StudentGrades(latest=summary, best=summary)
            continue
        latest = summary if current.latest is None or result_id > current.latest.result_id else current.latest
        best = summary if _is_better(summary, current.best) else current.best
        grades[login] = StudentGrades(latest=latest, best=best)
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
