"""What instructors change: an override of a submission's score, regrades of an assignment, a student's
extension. Each writes in the caller's open transaction and queues what the student must see (a publish
job), so the change and its feedback are stored together or not at all. The API, the dashboard and the
command line all come here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.dto import AssignmentRegradeAccepted, ExtensionView, OverrideView
from grader.course.config import Assignment
from grader.db.dialect import insert_for
from grader.db.models import Base, Extension, Override, Result, Submission, utcnow
from grader.grading.rubric import Rubric
from grader.queue.enqueue import enqueue_publish, enqueue_regrades


def override_view(row: Override) -> OverrideView:
    return OverrideView(id=row.id, submission_id=row.submission_id, score=row.score, grade=row.grade,
                        note=row.note, by=row.created_by, at=row.created_at)


async def _has_service_result(session: AsyncSession, submission_ids: Sequence[int]) -> set[int]:
    rows = await session.scalars(select(Result.submission_id).distinct().where(
        Result.submission_id.in_(submission_ids), Result.advisory.is_(False)))
    return set(rows)


async def set_override(session: AsyncSession, submission: Submission, rubric: Rubric, score: float,
                       note: str, by: str) -> OverrideView:
    """Record the instructor's score (its grade is the score's band in the rubric), and republish the
    submission's feedback when it has been graded (otherwise its grading will show the override)."""
    score = round(score, 1)
    row = Override(submission_id=submission.id, score=score, grade=rubric.grade_for(score), note=note.strip(),
                   created_by=by, created_at=utcnow())
    session.add(row)
    if await _has_service_result(session, [submission.id]):
        enqueue_publish(session, submission.id)
    await session.flush()
    return override_view(row)


async def _regrade_targets(session: AsyncSession, assignment_id: str, student: str | None,
                           everything: bool) -> list[int]:
    """Every push of the assignment, or the newest push of each pull request (what counts today)."""
    column = Submission.id if everything else func.max(Submission.id)
    statement = select(column).where(Submission.assignment_id == assignment_id)
    if student is not None:
        statement = statement.where(func.lower(Submission.author_login) == student.lower())
    if not everything:
        statement = statement.group_by(Submission.pull_request_id)
    return list(await session.scalars(statement))


async def regrade_assignment(session: AsyncSession, assignment: Assignment, student: str | None = None,
                             everything: bool = False) -> AssignmentRegradeAccepted:
    targets = await _regrade_targets(session, assignment.id, student, everything)
    queued = await enqueue_regrades(session, targets)
    return AssignmentRegradeAccepted(assignment=assignment.id, submissions=len(targets), queued=queued.created,
                                     already_queued=queued.already_queued)


def extension_view(row: Extension) -> ExtensionView:
    return ExtensionView(assignment=row.assignment_id, student=row.github, until=row.until,
                         granted_by=row.granted_by, created_at=row.created_at)


async def grant_extension(session: AsyncSession, assignment: Assignment, login: str, until: datetime,
                          by: str) -> ExtensionView:
    """Set (or move) the student's deadline, and republish the feedback of their graded pushes so the
    comment shows the penalty the new deadline gives (or none)."""
    now = utcnow()
    insert = insert_for((await session.connection()).dialect.name, Base.metadata.tables["extensions"])
    values = {"assignment_id": assignment.id, "github": login, "login_key": login.lower(), "until": until,
              "granted_by": by, "created_at": now}
    await session.execute(insert.values(**values).on_conflict_do_update(
        index_elements=["assignment_id", "login_key"],
        set_={"github": login, "until": until, "granted_by": by, "created_at": now}))
    pushes = await _regrade_targets(session, assignment.id, login, everything=False)
    for submission_id in sorted(await _has_service_result(session, pushes)):
        enqueue_publish(session, submission_id)
    return ExtensionView(assignment=assignment.id, student=login, until=until, granted_by=by, created_at=now)
