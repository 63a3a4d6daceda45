"""Per-student aggregates: activity, latest and best grade, and the gradebook of an assignment.

Only the service's own results count here: an advisory result (from a workflow the student controls)
never becomes a student's grade. The gradebook is five statements for any number of students and pushes:
roster, extensions, one aggregate per student (pushes, newest push), the few pushes that can still decide
a grade (each student's newest graded one, the best one on time for everyone, with the grade it earned,
and those received after the earliest deadline), overrides. Each submission carries its newest service
result's score, so none of this joins the results; `grader.course.standing` decides in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, case, func, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grader.api.dto import Gradebook, GradebookRow, GradeSummary
from grader.course.config import Assignment
from grader.course.deadlines import late_days
from grader.course.standing import GradedPush, Mark, standing
from grader.db.models import (
    Extension,
    Override,
    PullRequest,
    Repository,
    Result,
    RosterStudent,
    Submission,
)
from grader.grading.rubric import Rubric

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class Activity:
    attempts: int
    last_activity: datetime


@dataclass(frozen=True)
class StudentGrades:
    latest: GradeSummary | None = None
    best: GradeSummary | None = None


def _scoped(statement: Select[*Columns], repository: str | None, student: str | None,
            assignment: str | None = None) -> Select[*Columns]:
    if assignment is not None:
        statement = statement.where(Submission.assignment_id == assignment)
    if repository is not None:
        statement = (statement.join(PullRequest, PullRequest.id == Submission.pull_request_id)
                     .join(Repository, Repository.id == PullRequest.repository_id)
                     .where(Repository.full_name == repository))
    if student is not None:
        statement = statement.where(Submission.author_login == student)
    return statement


async def activity_by_student(session: AsyncSession, repository: str | None = None,
                              student: str | None = None, assignment: str | None = None) -> dict[str, Activity]:
    statement = _scoped(
        select(Submission.author_login, func.count(Submission.id), func.max(Submission.received_at))
        .group_by(Submission.author_login), repository, student, assignment)
    rows = (await session.execute(statement)).all()
    return {login: Activity(count, last) for login, count, last in rows}


def _service_results(repository: str | None, student: str | None, *columns: Any,
                     assignment: str | None = None) -> Select[Any]:
    statement = (select(*columns).select_from(Submission)
                 .join(Result, Result.submission_id == Submission.id).where(Result.advisory.is_(False)))
    return _scoped(statement, repository, student, assignment)


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


@dataclass(frozen=True)
class GradebookScope:
    """Which gradebook: an assignment of the course (None: every submission, as without a course file),
    optionally one repository, graded with `rubric` under the course's `policy`."""

    rubric: Rubric
    assignment: Assignment | None = None
    repository: str | None = None
    policy: str = "best"


@dataclass
class _Student:
    login: str
    attempts: int = 0
    last_activity: datetime | None = None
    pushes: list[GradedPush] = field(default_factory=list)  # the pushes that can decide the grade
    override: Mark | None = None


async def _extensions(connection: AsyncConnection, scope: GradebookScope) -> dict[str, datetime]:
    if scope.assignment is None:
        return {}
    rows = await connection.execute(select(Extension.login_key, Extension.until)
                                    .where(Extension.assignment_id == scope.assignment.id))
    return {row.login_key: row.until for row in rows.all()}


async def _roster(connection: AsyncConnection) -> list[Any]:
    return list((await connection.execute(
        select(RosterStudent.github, RosterStudent.login_key, RosterStudent.student_id, RosterStudent.name,
               RosterStudent.email))).all())


def _cutoff(scope: GradebookScope, extensions: dict[str, datetime]) -> datetime | None:
    """The earliest deadline of any student: a push received by then is on time for everyone."""
    deadline = scope.assignment.deadline if scope.assignment else None
    return None if deadline is None else min([deadline, *extensions.values()])


def _graded(statement: Select[Any], scope: GradebookScope) -> Select[Any]:
    assignment_id = scope.assignment.id if scope.assignment else None
    return _scoped(statement.where(Submission.score.is_not(None)), scope.repository, None, assignment_id)


async def _activity(connection: AsyncConnection, scope: GradebookScope) -> dict[str, _Student]:
    """One pass over the assignment's pushes (the index alone): per student the number of pushes and the
    newest."""
    statement = _scoped(select(Submission.author_login, func.count(Submission.id), func.max(Submission.received_at))
                        .group_by(Submission.author_login),
                        scope.repository, None, scope.assignment.id if scope.assignment else None)
    students: dict[str, _Student] = {}
    for login, attempts, last in (await connection.execute(statement)).all():
        student = students.setdefault(login.lower(), _Student(login))
        student.attempts += attempts
        student.last_activity = last if student.last_activity is None else max(last, student.last_activity)
    return students


def _best_on_time(scope: GradebookScope, cutoff: datetime | None) -> Select[Any]:
    """The id of each student's best graded push among those on time for everyone (the earlier on a
    tie): it stands for every on-time push it beats, with the grade it earned (a band requirement may
    have held that grade below what the score alone would give)."""
    rank = func.row_number().over(partition_by=Submission.author_login,
                                  order_by=(Submission.score.desc(), Submission.id))
    ranked = _graded(select(Submission.id.label("id"), rank.label("rank")), scope)
    if cutoff is not None:
        ranked = ranked.where(Submission.received_at <= cutoff)
    best = ranked.subquery()
    return select(best.c.id).where(best.c.rank == 1)


def _newest_graded(scope: GradebookScope, cutoff: datetime | None) -> Select[Any]:
    """The id of each student's newest graded push (and, for the "last" policy, newest on-time one)."""
    newest = _graded(select(func.max(Submission.id)).group_by(Submission.author_login), scope)
    if cutoff is None or scope.policy != "last":
        return newest
    on_time = _graded(select(func.max(Submission.id)).where(Submission.received_at <= cutoff)
                      .group_by(Submission.author_login), scope)
    return select(newest.union_all(on_time).subquery().c[0])


async def _deciding_pushes(connection: AsyncConnection, scope: GradebookScope, cutoff: datetime | None,
                           students: dict[str, _Student], extensions: dict[str, datetime]) -> None:
    """The pushes that can still decide a grade: each student's newest graded push and every graded push
    received after the cutoff; with the best on-time score, all that the course's policy needs. The
    receipt times are read only after the cutoff."""
    after = null() if cutoff is None else case((Submission.received_at > cutoff, Submission.received_at))
    columns = (Submission.author_login, Submission.id, Submission.score, Submission.grade, after.label("late_at"))
    statement: Any = select(*columns).where(Submission.id.in_(_newest_graded(scope, cutoff))
                                            | Submission.id.in_(_best_on_time(scope, cutoff)))
    if cutoff is not None:
        statement = union_all(statement, _graded(select(*columns).where(Submission.received_at > cutoff), scope))
    deadline = scope.assignment.deadline if scope.assignment else None
    for login, submission_id, score, grade, late_at in (await connection.execute(statement)).all():
        key = login.lower()
        days = 0 if late_at is None else late_days(late_at, extensions.get(key, deadline))
        students[key].pushes.append(GradedPush(submission_id, score, grade, days))


async def _overrides(connection: AsyncConnection, scope: GradebookScope, students: dict[str, _Student],
                     extensions: dict[str, datetime]) -> None:
    statement = _scoped(select(Submission.author_login, Override.submission_id, Override.score, Override.grade,
                               Submission.received_at)
                        .join(Submission, Submission.id == Override.submission_id).order_by(Override.id),
                        scope.repository, None, scope.assignment.id if scope.assignment else None)
    deadline = scope.assignment.deadline if scope.assignment else None
    for login, submission_id, score, grade, received_at in (await connection.execute(statement)).all():
        key = login.lower()
        students[key].override = Mark(score, grade, submission_id,
                                      late_days(received_at, extensions.get(key, deadline)))


async def _students(connection: AsyncConnection, scope: GradebookScope,
                    extensions: dict[str, datetime]) -> dict[str, _Student]:
    """Everyone who pushed, by login key, with the pushes that decide their grade and their newest override."""
    cutoff = _cutoff(scope, extensions)
    students = await _activity(connection, scope)
    await _deciding_pushes(connection, scope, cutoff, students, extensions)
    await _overrides(connection, scope, students, extensions)
    return students


def _row(key: str, student: _Student | None, roster: Any, scope: GradebookScope,
         extensions: dict[str, datetime]) -> GradebookRow:
    deadline = extensions.get(key, scope.assignment.deadline if scope.assignment else None)
    last = student.last_activity if student else None
    state = standing(student.pushes if student else [], pushed=student is not None,
                     newest_push_late=late_days(last, deadline) > 0 if last else False,
                     override=student.override if student else None, assignment=scope.assignment,
                     rubric=scope.rubric, policy=scope.policy)
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
        attempts=student.attempts if student else 0, last_activity=last,
    )


async def gradebook(session: AsyncSession, scope: GradebookScope) -> Gradebook:
    """Every roster student and every other student who pushed, ordered by login."""
    connection = await session.connection()  # plain rows: no ORM loading machinery
    roster = {row.login_key: row for row in await _roster(connection)}
    extensions = await _extensions(connection, scope)
    students = await _students(connection, scope, extensions)
    keys = sorted(set(roster) | set(students))
    assignment = scope.assignment
    return Gradebook(assignment=assignment.id if assignment else None, title=assignment.title if assignment else None,
                     deadline=assignment.deadline if assignment else None, grade_policy=scope.policy,
                     rows=[_row(key, students.get(key), roster.get(key), scope, extensions) for key in keys])
