"""The instructor API's endpoints: thin handlers over the query modules, every one behind a token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, QueryParameter

from grader.api import csv_export
from grader.api.actions import set_override
from grader.api.auth import TokenIdentity, require_write_scope
from grader.api.base import ApiController
from grader.api.course_scope import gradebook_scope, requested_assignment
from grader.api.dependencies import GradeBands
from grader.api.detail_queries import get_submission_detail, with_course_view
from grader.api.dto import (
    Gradebook,
    JobPage,
    OverrideRequest,
    OverrideView,
    RegradeAccepted,
    Stats,
    StudentView,
    SubmissionDetail,
    SubmissionPage,
)
from grader.api.gradebook_queries import activity_by_student, gradebook, grades_by_student
from grader.api.job_queries import list_jobs, request_regrade
from grader.api.openapi import CsvAlsoOperation, error_responses
from grader.api.pagination import decode_cursor, encode_cursor
from grader.api.parameters import (
    AssignmentFilter,
    Cursor,
    GradeFilter,
    JobStatusFilter,
    Limit,
    Login,
    PrFilter,
    RepositoryFilter,
    RowId,
    Since,
    StudentFilter,
    as_utc,
)
from grader.api.stats_queries import class_stats_for
from grader.api.submission_queries import SubmissionFilters, list_submissions
from grader.db.models import Submission
from grader.db.session import DbSession

OutputFormat = Annotated[str | None, QueryParameter(
    name="format", pattern="^(json|csv|canvas|moodle)$",
    description="json (the default), csv, or the import format of a canvas or moodle gradebook.")]


def _no_submission(submission_id: int) -> NotFoundException:
    return NotFoundException(f"No submission has id {submission_id}.")


class SubmissionController(ApiController):
    path = "/api/submissions"
    tags = ["submissions"]  # noqa: RUF012

    @get("/", summary="Submissions, newest first, filtered and paginated",
         responses=error_responses(400, 401))
    async def list(self, db_session: DbSession, repository: RepositoryFilter = None,
                   assignment: AssignmentFilter = None,
                   student: StudentFilter = None, pr: PrFilter = None, grade: GradeFilter = None,
                   since: Since = None, limit: Limit = 50, cursor: Cursor = None) -> SubmissionPage:
        filters = SubmissionFilters(repository=repository, assignment=assignment, student=student, pr=pr,
                                    grade=grade,
                                    since=as_utc(since, "since"), before_id=decode_cursor(cursor))
        items = await list_submissions(db_session, filters, limit + 1)
        next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
        return SubmissionPage(items=items[:limit], next_cursor=next_cursor, limit=limit)

    @get("/{submission_id:int}", summary="One submission: checks, points, remediation, timings, provenance, "
         "lateness and overrides", responses=error_responses(400, 401, 404))
    async def detail(self, db_session: DbSession, state: State, submission_id: RowId) -> SubmissionDetail:
        detail = await get_submission_detail(db_session, submission_id)
        if detail is None:
            raise _no_submission(submission_id)
        return await with_course_view(db_session, detail, state.settings.course, state.rubrics)

    @post("/{submission_id:int}/override", status_code=201, guards=[require_write_scope],
          summary="Set the submission's score by hand (its grade follows), with a note; the student's comment says so",
          responses=error_responses(400, 401, 403, 404))
    async def override(self, request: Request[Any, Any, Any], db_session: DbSession, state: State, submission_id: RowId,
                       data: JSONBody[OverrideRequest]) -> OverrideView:
        identity: TokenIdentity = request.state.api_token
        async with db_session.begin():
            submission = await db_session.get(Submission, submission_id)
            if submission is None:
                raise _no_submission(submission_id)
            return await set_override(db_session, submission, state.rubrics.for_assignment(
                submission.assignment_id), data.score, data.note, identity.name)

    @post("/{submission_id:int}/regrade", status_code=202, guards=[require_write_scope],
          summary="Queue a new grading of the submission (behind new pushes)",
          responses=error_responses(400, 401, 403, 404))
    async def regrade(self, db_session: DbSession, submission_id: RowId) -> RegradeAccepted:
        async with db_session.begin():
            accepted = await request_regrade(db_session, submission_id)
        if accepted is None:
            raise _no_submission(submission_id)
        return accepted


class StudentController(ApiController):
    path = "/api/students"
    tags = ["students"]  # noqa: RUF012

    @get("/{login:str}", summary="A student's history across pull requests, latest and best grade",
         responses=error_responses(400, 401, 404))
    async def student(self, db_session: DbSession, login: Login) -> StudentView:
        activity = (await activity_by_student(db_session, student=login)).get(login)
        if activity is None:
            raise NotFoundException(f"No submission is by {login}.")
        grades = (await grades_by_student(db_session, student=login)).get(login)
        submissions = await list_submissions(db_session, SubmissionFilters(student=login), None)
        return StudentView(login=login, latest=grades.latest if grades else None,
                           best=grades.best if grades else None, attempts=activity.attempts,
                           last_activity=activity.last_activity, submissions=submissions)


class GradebookController(ApiController):
    path = "/api"
    tags = ["gradebook"]  # noqa: RUF012

    @get("/gradebook", summary="Every roster student and every submitter of an assignment: graded, late, "
         "pending or missing; JSON, CSV (Accept: text/csv or ?format=csv), or a Canvas or Moodle import",
         operation_class=CsvAlsoOperation, responses=error_responses(400, 401, 404))
    async def gradebook(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                        assignment: AssignmentFilter = None, repository: RepositoryFilter = None,
                        output_format: OutputFormat = None) -> Response[Gradebook]:
        scope = gradebook_scope(state, assignment, repository)
        book = await gradebook(db_session, scope)
        kind = csv_export.export_format(output_format, request.headers.get("accept", ""))
        if kind != "json":
            column = scope.assignment.export_column if scope.assignment else "Grade"
            return csv_export.export_response(book, kind, column)  # type: ignore[return-value]
        return Response(book)

    @get("/stats", summary="Grade distribution, most-failed checks, most-needed lesson sections "
         "(the grades the checks gave)", responses=error_responses(400, 401, 404))
    async def stats(self, db_session: DbSession, state: State, grade_bands: GradeBands,
                    assignment: AssignmentFilter = None, repository: RepositoryFilter = None) -> Stats:
        requested_assignment(state.settings.course, assignment)
        return await class_stats_for(db_session, grade_bands, repository, assignment)


class JobController(ApiController):
    path = "/api/jobs"
    tags = ["jobs"]  # noqa: RUF012

    @get("/", summary="The grading queue, newest first", responses=error_responses(400, 401))
    async def list(self, db_session: DbSession, status: JobStatusFilter = None, limit: Limit = 50,
                   cursor: Cursor = None) -> JobPage:
        items = await list_jobs(db_session, status, decode_cursor(cursor), limit + 1)
        next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
        return JobPage(items=items[:limit], next_cursor=next_cursor, limit=limit)


API_CONTROLLERS = [SubmissionController, StudentController, GradebookController, JobController]
