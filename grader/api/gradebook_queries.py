"""Per-student aggregates: activity, latest and best grade, and the gradebook of an assignment.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's grade. The gradebook of an assignment is three statements for any number of
students and pushes: the roster, the extensions and the stored standings (`grader.api.standings`), plus
three more for the few students whose standing changed since the service last stored it, computed
live (`grader.api.standing_inputs`). A repository's gradebook, and the one of a service without a
course file, are computed live for everyone (six statements).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grader.api.dto import Gradebook, GradebookRow, GradeSummary
from grader.api.standing_inputs import (
    GradebookScope,
    StudentPushes,
    extensions_of,
    scoped,
    standing_of,
    students_of,
)
from grader.api.standings import basis_of, is_fresh, logins_of, stored_standings
from grader.course.deadlines import late_days
from grader.course.standing import LATE, PENDING
from grader.db.models import Result, RosterStudent, Submission

STALE_LIVE_LIMIT = 2_000  # more stale standings than this (a course file just edited): all computed live


@dataclass(frozen=True)
class Activity:
    attempts: int
    last_activity: datetime


@dataclass(frozen=True)
class StudentGrades:
    latest: GradeSummary | None = None
    best: GradeSummary | None = None


async def activity_by_student(session: AsyncSession, repository: str | None = None,
                              student: str | None = None, assignment: str | None = None) -> dict[str, Activity]:
    statement = scoped(
        select(Submission.author_login, func.count(Submission.id), func.max(Submission.received_at))
        .group_by(Submission.author_login), repository, student, assignment)
    rows = (await session.execute(statement)).all()
    return {login: Activity(count, last) for login, count, last in rows}


def _service_results(repository: str | None, student: str | None, *columns: Any,
                     assignment: str | None = None) -> Select[Any]:
    statement = (select(*columns).select_from(Submission)
                 .join(Result, Result.submission_id == Submission.id).where(Result.advisory.is_(False)))
    return scoped(statement, repository, student, assignment)


def latest_result_ids(repository: str | None = None, student: str | None = None,
                      assignment: str | None = None) -> Select[Any]:
    """The id of each student's newest service result."""
    return (_service_results(repository, student, func.max(Result.id), assignment=assignment)
            .group_by(Submission.author_login))


def _is_better(candidate: GradeSummary, than: GradeSummary | None) -> bool:
    if than is None or candidate.score != than.score:
        return than is None or candidate.score > than.score
    return candidate.result_id < than.result_id


async def grades_by_student(session: AsyncSession, repository: str | None = None,
                            student: str | None = None, assignment: str | None = None) -> dict[str, StudentGrades]:
    """Each student's latest and best service grade: one narrow scan, reduced in a single pass.

    The scan reads only (login, id, score, grade), which the covering index on results holds.
    """
    connection = await session.connection()  # plain rows: no ORM loading machinery for a 10k-row scan
    scan = _service_results(repository, student, Submission.author_login, Result.id, Result.score, Result.grade,
                            assignment=assignment)
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


async def _roster(connection: AsyncConnection) -> dict[str, Any]:
    rows = await connection.execute(select(RosterStudent.github, RosterStudent.login_key, RosterStudent.student_id,
                                           RosterStudent.name, RosterStudent.email))
    return {row.login_key: row for row in rows.all()}


def _live_row(key: str, student: StudentPushes | None, roster: Any, scope: GradebookScope,
              extensions: dict[str, datetime]) -> GradebookRow:
    state = standing_of(key, student, scope, extensions)
    final, at_deadline, latest, best = state.final, state.at_deadline, state.latest, state.best
    return GradebookRow(
        student=roster.github if roster else student.login if student else key,
        student_id=roster.student_id if roster else None, name=roster.name if roster else None,
        email=roster.email if roster else None, on_roster=roster is not None, status=state.status,
        score=final.score if final else None, grade=final.grade if final else None,
        late_days=final.late_days if final else 0, overridden=state.overridden,
        score_at_deadline=at_deadline.score if at_deadline else None,
        grade_at_deadline=at_deadline.grade if at_deadline else None,
        latest_score=latest.score if latest else None, latest_grade=latest.grade if latest else None,
        best_score=best.score if best else None, best_grade=best.grade if best else None,
        attempts=student.attempts if student else 0, last_activity=student.last_activity if student else None,
    )


def _stored_row(stored: Any, roster: Any, deadline: datetime | None) -> GradebookRow:
    """A fresh stored standing as a row; with nothing graded, its status follows the newest push."""
    status = stored.status
    if status is None:
        status = LATE if late_days(stored.last_activity, deadline) else PENDING
    return GradebookRow(
        student=roster.github if roster else stored.login or stored.login_key,
        student_id=roster.student_id if roster else None, name=roster.name if roster else None,
        email=roster.email if roster else None, on_roster=roster is not None, status=status,
        score=stored.score, grade=stored.grade, late_days=stored.late_days, overridden=stored.overridden,
        score_at_deadline=stored.score_at_deadline, grade_at_deadline=stored.grade_at_deadline,
        latest_score=stored.latest_score, latest_grade=stored.latest_grade, best_score=stored.best_score,
        best_grade=stored.best_grade, attempts=stored.attempts, last_activity=stored.last_activity,
    )


async def _live_rows(connection: AsyncConnection, scope: GradebookScope, roster: dict[str, Any],
                     extensions: dict[str, datetime]) -> list[GradebookRow]:
    students = await students_of(connection, scope, extensions)
    return [_live_row(key, students.get(key), roster.get(key), scope, extensions)
            for key in sorted(set(roster) | set(students))]


async def _stored_rows(connection: AsyncConnection, scope: GradebookScope, roster: dict[str, Any],
                       extensions: dict[str, datetime], stored: Sequence[Any]) -> list[GradebookRow]:
    """Fresh standings as stored; the stale ones computed live."""
    basis = basis_of(scope)
    by_key = {row.login_key: row for row in stored}
    stale = [row for row in stored if not is_fresh(row, basis)]
    live = await students_of(connection, scope, extensions, logins_of(stale)) if stale else {}
    stale_keys = {row.login_key for row in stale}
    deadline = scope.deadline
    rows = []
    for key in sorted(set(roster) | set(by_key)):
        row = by_key.get(key)
        if row is None or key in stale_keys:
            rows.append(_live_row(key, live.get(key), roster.get(key), scope, extensions))
        else:
            rows.append(_stored_row(row, roster.get(key), extensions.get(key, deadline)))
    return rows


async def gradebook(session: AsyncSession, scope: GradebookScope, *, from_standings: bool = True) -> Gradebook:
    """Every roster student and every other student who pushed, ordered by login. `from_standings=False`
    computes every student from the pushes (what the stored standings must always equal)."""
    connection = await session.connection()  # plain rows: no ORM loading machinery
    roster = await _roster(connection)
    extensions = await extensions_of(connection, scope)
    assignment = scope.assignment
    if assignment is None or scope.repository is not None or not from_standings:
        rows = await _live_rows(connection, scope, roster, extensions)
    else:
        stored = await stored_standings(connection, assignment.id)
        stale = sum(not is_fresh(row, basis_of(scope)) for row in stored)
        rows = (await _live_rows(connection, scope, roster, extensions) if stale > STALE_LIVE_LIMIT
                else await _stored_rows(connection, scope, roster, extensions, stored))
    return Gradebook(assignment=assignment.id if assignment else None, title=assignment.title if assignment else None,
                     deadline=assignment.deadline if assignment else None, grade_policy=scope.policy, rows=rows)
