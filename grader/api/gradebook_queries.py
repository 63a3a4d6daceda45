"""Per-student aggregates: activity, latest and best grade, and the gradebook of an assignment.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's grade. The gradebook of an assignment is three statements for any number of
students and pushes: the roster, the extensions and the stored standings (`grader.api.standings`), plus
three more for the few students whose standing changed since the service last stored it, computed
live (`grader.api.standing_inputs`). A repository's gradebook, and the one of a service without a
course file, are computed live for everyone (six statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Integer, Select, String, func, null, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grader.api.dto import Gradebook, GradebookRow, GradeSummary
from grader.api.standing_inputs import (
    GradebookScope,
    StudentPushes,
    extensions_of,
    outcome_columns,
    scoped,
    standing_of,
    students_of,
)
from grader.api.standings import basis_of, fresh, logins_of
from grader.course.deadlines import late_days
from grader.course.standing import LATE, PENDING
from grader.db.models import Result, RosterStudent, Standing, Submission, sqlite_utc

ROSTER_COLUMNS = (RosterStudent.github, RosterStudent.student_id, RosterStudent.name, RosterStudent.email)
# What the gradebook shows of a stored standing, in this order (then whether it is fresh). None needs a
# result processor: with one, SQLAlchemy turns every row through Python (30 ms for 10,000 rows on
# SQLite), so the time and the flags are converted by `_stored_row` (see `_utc`).
STANDING_COLUMNS = (Standing.login_key, Standing.login, Standing.attempts,
                    type_coerce(Standing.last_activity, String), Standing.status, Standing.score, Standing.grade,
                    Standing.late_days, type_coerce(Standing.overridden, Integer), Standing.score_at_deadline,
                    Standing.grade_at_deadline, Standing.latest_score, Standing.latest_grade, Standing.best_score,
                    Standing.best_grade)
FRESH, ATTEMPTS = len(STANDING_COLUMNS), 2  # positions in a row of `_standings_with_roster`
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
    rows = await connection.execute(select(RosterStudent.login_key, *ROSTER_COLUMNS))
    return {row[0]: row[1:] for row in rows.all()}


def _live_row(key: str, student: StudentPushes | None, roster: Any, scope: GradebookScope,
              extensions: dict[str, datetime]) -> GradebookRow:
    """`roster`: (github, student_id, name, email), None for a student who is not on it."""
    state = standing_of(key, student, scope, extensions)
    github, student_id, name, email = roster or (student.login if student else key, None, None, None)
    return GradebookRow(
        student=github, student_id=student_id, name=name, email=email, on_roster=roster is not None,
        status=state.status, **outcome_columns(state),
        attempts=student.attempts if student else 0, last_activity=student.last_activity if student else None,
    )


def _utc(value: datetime | str) -> datetime:
    """A stored time as read without a result processor: SQLite's text (UTC, no zone), or PostgreSQL's
    aware datetime."""
    if isinstance(value, str):
        return sqlite_utc(value)
    return value.astimezone(UTC) if value.tzinfo is not UTC else value


def _stored_row(stored: Any, deadline: datetime | None) -> GradebookRow:
    """A fresh stored standing, joined with the roster, as a row; with nothing graded, its status follows
    the newest push. (Unpacked and built by position: a gradebook of 10,000 students reads 200,000
    values here.)"""
    (key, login, attempts, last, status, score, grade, days, overridden, score_at_deadline, grade_at_deadline,
     latest_score, latest_grade, best_score, best_grade, _, github, student_id, name, email) = stored
    last = _utc(last)
    if status is None:
        status = LATE if late_days(last, deadline) else PENDING
    return GradebookRow(github or login or key, student_id, name, email, github is not None, status, score, grade,
                        days, overridden == 1, score_at_deadline, grade_at_deadline, latest_score, latest_grade,
                        best_score, best_grade, attempts, last)


async def _live_rows(connection: AsyncConnection, scope: GradebookScope,
                     extensions: dict[str, datetime]) -> list[GradebookRow]:
    roster = await _roster(connection)
    students = await students_of(connection, scope, extensions)
    return [_live_row(key, students.get(key), roster.get(key), scope, extensions)
            for key in sorted(set(roster) | set(students))]


def _standings_with_roster(assignment_id: str, basis: str) -> Any:
    """The assignment's stored standings with their roster entries, then the roster students with none."""
    pushed = (select(*STANDING_COLUMNS, type_coerce(fresh(basis), Integer).label("fresh"), *ROSTER_COLUMNS)
              .select_from(Standing).outerjoin(RosterStudent, RosterStudent.login_key == Standing.login_key)
              .where(Standing.assignment_key == assignment_id))
    has_standing = (select(Standing.id).where(Standing.assignment_key == assignment_id,
                                              Standing.login_key == RosterStudent.login_key).exists())
    never = (select(RosterStudent.login_key, *[null()] * (len(STANDING_COLUMNS) - 1), null(), *ROSTER_COLUMNS)
             .where(~has_standing))
    return union_all(pushed, never)


async def _stored_rows(connection: AsyncConnection, scope: GradebookScope, assignment_id: str,
                       extensions: dict[str, datetime]) -> list[GradebookRow] | None:
    """Fresh standings as stored, the stale ones computed live; None when too many are stale."""
    rows = (await connection.execute(_standings_with_roster(assignment_id, basis_of(scope)))).all()
    stale = [row for row in rows if not row[FRESH] and row[ATTEMPTS] is not None]  # by position: 10,000 rows
    if len(stale) > STALE_LIVE_LIMIT:
        return None
    live = await students_of(connection, scope, extensions, logins_of(stale)) if stale else {}
    deadline = scope.deadline
    book = []
    for row in sorted(rows, key=itemgetter(0)):
        if row[FRESH]:
            book.append(_stored_row(row, extensions.get(row[0], deadline)))
        else:  # stale, or never pushed
            key = row[0]
            roster = None if row.github is None else (row.github, row.student_id, row.name, row.email)
            book.append(_live_row(key, live.get(key), roster, scope, extensions))
    return book


async def gradebook(session: AsyncSession, scope: GradebookScope, *, from_standings: bool = True) -> Gradebook:
    """Every roster student and every other student who pushed, ordered by login. `from_standings=False`
    computes every student from the pushes (what the stored standings must always equal)."""
    connection = await session.connection()  # plain rows: no ORM loading machinery
    extensions = await extensions_of(connection, scope)
    assignment = scope.assignment
    rows = None
    if assignment is not None and scope.repository is None and from_standings:
        rows = await _stored_rows(connection, scope, assignment.id, extensions)
    if rows is None:
        rows = await _live_rows(connection, scope, extensions)
    return Gradebook(assignment=assignment.id if assignment else None, title=assignment.title if assignment else None,
                     deadline=assignment.deadline if assignment else None, grade_policy=scope.policy, rows=rows)
