"""`/api/assignments` and `/api/roster`: the course file's assignments with what students did in them,
the roster, and the instructor's changes to an assignment (regrades, extensions)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import JSONBody
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.actions import extension_view, grant_extension, regrade_assignment
from grader.api.auth import TokenIdentity, require_write_scope
from grader.api.base import ApiController
from grader.api.course_scope import find_assignment
from grader.api.dto import (
    AssignmentDetail,
    AssignmentList,
    AssignmentRegradeAccepted,
    AssignmentRegradeRequest,
    AssignmentView,
    ExtensionRequest,
    ExtensionView,
    Roster,
    RosterEntryView,
)
from grader.api.openapi import error_responses
from grader.api.parameters import AssignmentId
from grader.course.config import Assignment, Course, parse_moment
from grader.db.models import Extension, RosterStudent, Submission
from grader.db.session import DbSession
from grader.grading.rubric import RubricSet


async def _activity(session: AsyncSession) -> dict[str | None, tuple[int, int]]:
    """Per assignment: (students who pushed, pushes), one statement."""
    rows = await session.execute(select(Submission.assignment_id, func.count(func.distinct(Submission.author_login)),
                                        func.count(Submission.id)).group_by(Submission.assignment_id))
    return {assignment: (students, pushes) for assignment, students, pushes in rows}


def _view(assignment: Assignment, rubrics: RubricSet, activity: dict[str | None, tuple[int, int]]) -> dict[str, Any]:
    rubric = rubrics.for_assignment(assignment.id)
    students, pushes = activity.get(assignment.id, (0, 0))
    return {"id": assignment.id, "title": assignment.title, "repositories": list(assignment.repositories),
            "deadline": assignment.deadline, "late_penalty_percent_per_day": assignment.late_penalty_percent_per_day,
            "max_late_days": assignment.max_late_days, "rubric_id": rubric.id, "rubric_version": rubric.version,
            "bands": rubric.band_names, "students": students, "submissions": pushes}


class AssignmentController(ApiController):
    path = "/api/assignments"
    tags = ["assignments"]  # noqa: RUF012

    @get("/", summary="The course's assignments: deadline, late policy, rubric, activity",
         responses=error_responses(401))
    async def list(self, db_session: DbSession, state: State) -> AssignmentList:
        course: Course | None = state.settings.course
        if course is None:
            return AssignmentList(course=None, grade_policy="best", assignments=[])
        activity = await _activity(db_session)
        return AssignmentList(course=course.id, grade_policy=course.grade_policy,
                              assignments=[AssignmentView(**_view(item, state.rubrics, activity))
                                           for item in course.assignments])

    @get("/{assignment_id:str}", summary="One assignment, with the students' extensions",
         responses=error_responses(400, 401, 404))
    async def detail(self, db_session: DbSession, state: State, assignment_id: AssignmentId) -> AssignmentDetail:
        assignment = find_assignment(state.settings.course, assignment_id)
        extensions = await db_session.scalars(select(Extension).where(Extension.assignment_id == assignment.id)
                                              .order_by(Extension.login_key))
        return AssignmentDetail(**_view(assignment, state.rubrics, await _activity(db_session)),
                                extensions=[extension_view(row) for row in extensions])

    @post("/{assignment_id:str}/regrade", status_code=202, guards=[require_write_scope],
          summary="Regrade the newest push of every pull request of the assignment (or of one student, or "
          "every push), behind new pushes", responses=error_responses(400, 401, 403, 404))
    async def regrade(self, db_session: DbSession, state: State, assignment_id: AssignmentId,
                      data: JSONBody[AssignmentRegradeRequest | None] = None) -> AssignmentRegradeAccepted:
        assignment = find_assignment(state.settings.course, assignment_id)
        request = data or AssignmentRegradeRequest()
        async with db_session.begin():
            return await regrade_assignment(db_session, assignment, request.student, request.all)

    @post("/{assignment_id:str}/extensions", status_code=201, guards=[require_write_scope],
          summary="Give a student their own deadline for the assignment", responses=error_responses(400, 401, 403, 404))
    async def extend(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                     assignment_id: AssignmentId, data: JSONBody[ExtensionRequest]) -> ExtensionView:
        assignment = find_assignment(state.settings.course, assignment_id)
        try:
            until = parse_moment(data.until, end_of_day_offset=assignment.deadline)
        except ValueError:
            raise ClientException("until must be an ISO 8601 date-time with a zone, e.g. 2026-12-12T23:59:00+03:00, "
                                  "or a date.") from None
        identity: TokenIdentity = request.state.api_token
        async with db_session.begin():
            return await grant_extension(db_session, assignment, data.student, until, identity.name)


class RosterController(ApiController):
    path = "/api/roster"
    tags = ["roster"]  # noqa: RUF012

    @get("/", summary="The course roster (grader roster import FILE.csv)", responses=error_responses(401))
    async def roster(self, db_session: DbSession) -> Roster:
        rows = await db_session.execute(select(RosterStudent.github, RosterStudent.student_id, RosterStudent.name,
                                               RosterStudent.email).order_by(RosterStudent.login_key))
        return Roster(students=[RosterEntryView(github=github, student_id=student_id, name=name, email=email)
                                for github, student_id, name, email in rows])


COURSE_CONTROLLERS = [AssignmentController, RosterController]
