"""Where students stand, computed from their pushes: the pushes that can decide each student's grade,
read in a fixed number of statements, and the pure `grader.course.standing` over them.

Only the service's own results count: an advisory result (from a workflow the student controls) never
becomes a grade. Each submission carries its newest service result's score, so nothing here joins the
results. The gradebook of a repository, of a service without a course file, and of the students whose
stored standing is stale (`grader.api.standings`) comes from here; so do the stored standings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, case, false, func, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from grader.course.config import Assignment
from grader.course.deadlines import late_days
from grader.course.standing import GradedPush, Mark, Standing, standing
from grader.db.models import Extension, Override, PullRequest, Repository, Submission
from grader.grading.rubric import Rubric

Columns = TypeVarTuple("Columns")


@dataclass(frozen=True)
class GradebookScope:
    """Which gradebook: an assignment of the course (None: every submission, as without a course file),
    optionally one repository, graded with `rubric` under the course's `policy`."""

    rubric: Rubric
    assignment: Assignment | None = None
    repository: str | None = None
    policy: str = "best"

    @property
    def deadline(self) -> datetime | None:
        return self.assignment.deadline if self.assignment else None


@dataclass(frozen=True)
class Logins:
    """Some students of a gradebook: by the login they pushed under (the index finds those), or by login
    key for a student who pushed under more than one casing."""

    exact: Sequence[str] = ()
    keys: Sequence[str] = ()

    def condition(self) -> ColumnElement[bool]:
        parts = [Submission.author_login.in_(self.exact)] if self.exact else []
        if self.keys:
            parts.append(func.lower(Submission.author_login).in_(self.keys))
        return or_(*parts) if parts else false()


def scoped(statement: Select[*Columns], repository: str | None, student: str | None,
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


@dataclass
class StudentPushes:
    login: str
    attempts: int = 0
    last_activity: datetime | None = None
    pushes: list[GradedPush] = field(default_factory=list)  # the pushes that can decide the grade
    override: Mark | None = None


async def extensions_of(connection: AsyncConnection, scope: GradebookScope) -> dict[str, datetime]:
    """Each extended student's deadline, by login key."""
    if scope.assignment is None:
        return {}
    rows = await connection.execute(select(Extension.login_key, Extension.until)
                                    .where(Extension.assignment_id == scope.assignment.id))
    return {row.login_key: row.until for row in rows.all()}


def _cutoff(scope: GradebookScope, extensions: dict[str, datetime]) -> datetime | None:
    """The earliest deadline of any student: a push received by then is on time for everyone."""
    return None if scope.deadline is None else min([scope.deadline, *extensions.values()])


def _in_scope(statement: Select[*Columns], scope: GradebookScope, logins: Logins | None) -> Select[*Columns]:
    statement = scoped(statement, scope.repository, None, scope.assignment.id if scope.assignment else None)
    return statement if logins is None else statement.where(logins.condition())


def _graded(statement: Select[Any], scope: GradebookScope, logins: Logins | None) -> Select[Any]:
    return _in_scope(statement.where(Submission.score.is_not(None)), scope, logins)


async def _activity(connection: AsyncConnection, scope: GradebookScope,
                    logins: Logins | None) -> dict[str, StudentPushes]:
    """One pass over the pushes (the index alone): per student the number of pushes and the newest."""
    statement = _in_scope(select(Submission.author_login, func.count(Submission.id),
                                 func.max(Submission.received_at)).group_by(Submission.author_login),
                          scope, logins)
    students: dict[str, StudentPushes] = {}
    for login, attempts, last in (await connection.execute(statement)).all():
        student = students.setdefault(login.lower(), StudentPushes(login))
        if student.login != login:  # pushed under more than one casing: shown by the key, as stored
            student.login = login.lower()
        student.attempts += attempts
        student.last_activity = last if student.last_activity is None else max(last, student.last_activity)
    return students


def _best_on_time(scope: GradebookScope, cutoff: datetime | None, logins: Logins | None) -> Select[Any]:
    """The id of each student's best graded push among those on time for everyone (the earlier on a
    tie): it stands for every on-time push it beats, with the grade it earned (a band requirement may
    have held that grade below what the score alone would give)."""
    rank = func.row_number().over(partition_by=Submission.author_login,
                                  order_by=(Submission.score.desc(), Submission.id))
    ranked = _graded(select(Submission.id.label("id"), rank.label("rank")), scope, logins)
    if cutoff is not None:
        ranked = ranked.where(Submission.received_at <= cutoff)
    best = ranked.subquery()
    return select(best.c.id).where(best.c.rank == 1)


def _newest_graded(scope: GradebookScope, cutoff: datetime | None, logins: Logins | None) -> Select[Any]:
    """The id of each student's newest graded push (and, for the "last" policy, newest on-time one)."""
    newest = _graded(select(func.max(Submission.id)).group_by(Submission.author_login), scope, logins)
    if cutoff is None or scope.policy != "last":
        return newest
    on_time = _graded(select(func.max(Submission.id)).where(Submission.received_at <= cutoff)
                      .group_by(Submission.author_login), scope, logins)
    return select(newest.union_all(on_time).subquery().c[0])


async def _deciding_pushes(connection: AsyncConnection, scope: GradebookScope, logins: Logins | None,
                           students: dict[str, StudentPushes], extensions: dict[str, datetime]) -> None:
    """The pushes that can still decide a grade: each student's newest graded push and every graded push
    received after the cutoff; with the best on-time score, all that the course's policy needs. The
    receipt times are read only after the cutoff."""
    cutoff = _cutoff(scope, extensions)
    after = null() if cutoff is None else case((Submission.received_at > cutoff, Submission.received_at))
    columns = (Submission.author_login, Submission.id, Submission.score, Submission.grade, after.label("late_at"))
    statement: Any = select(*columns).where(Submission.id.in_(_newest_graded(scope, cutoff, logins))
                                            | Submission.id.in_(_best_on_time(scope, cutoff, logins)))
    if cutoff is not None:
        statement = union_all(statement, _graded(select(*columns).where(Submission.received_at > cutoff),
                                                 scope, logins))
    for login, submission_id, score, grade, late_at in (await connection.execute(statement)).all():
        key = login.lower()
        days = 0 if late_at is None else late_days(late_at, extensions.get(key, scope.deadline))
        students[key].pushes.append(GradedPush(submission_id, score, grade, days))


async def _overrides(connection: AsyncConnection, scope: GradebookScope, logins: Logins | None,
                     students: dict[str, StudentPushes], extensions: dict[str, datetime]) -> None:
    statement = _in_scope(select(Submission.author_login, Override.submission_id, Override.score, Override.grade,
                                 Submission.received_at)
                          .join(Submission, Submission.id == Override.submission_id).order_by(Override.id),
                          scope, logins)
    for login, submission_id, score, grade, received_at in (await connection.execute(statement)).all():
        key = login.lower()
        students[key].override = Mark(score, grade, submission_id,
                                      late_days(received_at, extensions.get(key, scope.deadline)))


async def students_of(connection: AsyncConnection, scope: GradebookScope, extensions: dict[str, datetime],
                      logins: Logins | None = None) -> dict[str, StudentPushes]:
    """Everyone who pushed (or the `logins` given), by login key, with the pushes that decide their grade
    and their newest override: three statements however many students and pushes."""
    students = await _activity(connection, scope, logins)
    await _deciding_pushes(connection, scope, logins, students, extensions)
    await _overrides(connection, scope, logins, students, extensions)
    return students


def outcome_columns(state: Standing) -> dict[str, Any]:
    """A standing's grades as the gradebook's columns (and the stored standing's): what counts, at the
    deadline, latest and best."""
    final, at_deadline, latest, best = state.final, state.at_deadline, state.latest, state.best
    return {
        "score": final.score if final else None, "grade": final.grade if final else None,
        "late_days": final.late_days if final else 0, "overridden": state.overridden,
        "score_at_deadline": at_deadline.score if at_deadline else None,
        "grade_at_deadline": at_deadline.grade if at_deadline else None,
        "latest_score": latest.score if latest else None, "latest_grade": latest.grade if latest else None,
        "best_score": best.score if best else None, "best_grade": best.grade if best else None,
    }


def standing_of(key: str, student: StudentPushes | None, scope: GradebookScope,
                extensions: dict[str, datetime]) -> Standing:
    """The student's standing (missing when they never pushed)."""
    if student is None:
        return standing([], pushed=False, newest_push_late=False, override=None, assignment=scope.assignment,
                        rubric=scope.rubric, policy=scope.policy)
    last = student.last_activity
    deadline = extensions.get(key, scope.deadline)
    return standing(student.pushes, pushed=True, newest_push_late=late_days(last, deadline) > 0 if last else False,
                    override=student.override, assignment=scope.assignment, rubric=scope.rubric,
                    policy=scope.policy)
