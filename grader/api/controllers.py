"""The instructor API's endpoints: thin handlers over the query modules, every one behind a token."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import QueryParameter

from grader.api import csv_export
from grader.api.auth import require_api_token
from grader.api.dependencies import GradeBands
from grader.api.detail_queries import get_submission_detail
from grader.api.dto import (
    Gradebook,
    JobPage,
    RegradeAccepted,
    Stats,
    StudentView,
    SubmissionDetail,
    SubmissionPage,
)
from grader.api.errors import bad_parameter
from grader.api.gradebook_queries import activity_by_student, gradebook_rows, grades_by_student
from grader.api.job_queries import list_jobs, request_regrade
from grader.api.openapi import SECURITY, CsvAlsoOperation, error_responses
from grader.api.pagination import decode_cursor, encode_cursor
from grader.api.parameters import (
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
from grader.db.session import DbSession

OutputFormat = Annotated[str | None, QueryParameter(name="format", pattern="^(json|csv)$",
                                                    description="json (the default) or csv.")]


class _ApiController(Controller):
    guards = [require_api_token]  # noqa: RUF012 - Litestar reads these as class attributes
    security = SECURITY
    exception_handlers = {ValidationException: bad_parameter}  # noqa: RUF012


def _no_submission(submission_id: int) -> NotFoundException:
    return NotFoundException(f"No submission has id {submission_id}.")


class SubmissionController(_ApiController):
    path = "/api/submissions"
    tags = ["submissions"]  # noqa: RUF012

    @get("/", summary="Submissions, newest first, filtered and paginated",
         responses=error_responses(400, 401))
    async def list(self, db_session: DbSession, repository: RepositoryFilter = None,
                   student: StudentFilter = None, pr: PrFilter = None, grade: GradeFilter = None,
                   since: Since = None, limit: Limit = 50, cursor: Cursor = None) -> SubmissionPage:
        filters = SubmissionFilters(repository=repository, student=student, pr=pr, grade=grade,
                                    since=as_utc(since, "since"), before_id=decode_cursor(cursor))
        items = await list_submissions(db_session, filters, limit + 1)
        next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
        return SubmissionPage(items=items[:limit], next_cursor=next_cursor, limit=limit)

    @get("/{submission_id:int}", summary="One submission: checks, points, remediation, timings, provenance",
         responses=error_responses(400, 401, 404))
    async def detail(self, db_session: DbSession, submission_id: RowId) -> SubmissionDetail:
        detail = await get_submission_detail(db_session, submission_id)
        if detail is None:
            raise _no_submission(submission_id)
        return detail

    @post("/{submission_id:int}/regrade", status_code=202, summary="Queue a new grading of the submission",
          responses=error_responses(400, 401, 404))
    async def regrade(self, db_session: DbSession, submission_id: RowId) -> RegradeAccepted:
        async with db_session.begin():
            accepted = await request_regrade(db_session, submission_id)
        if accepted is None:
            raise _no_submission(submission_id)
        return accepted


class StudentController(_ApiController):
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


class GradebookController(_ApiController):
    path = "/api"
    tags = ["gradebook"]  # noqa: RUF012

    @get("/gradebook", summary="One row per student; JSON, or CSV with Accept: text/csv or ?format=csv",
         operation_class=CsvAlsoOperation, responses=error_responses(400, 401))
    async def gradebook(self, request: Request[Any, Any, Any], db_session: DbSession,
                        repository: RepositoryFilter = None,
                        output_format: OutputFormat = None) -> Response[Gradebook]:
        book = Gradebook(rows=await gradebook_rows(db_session, repository))
        if csv_export.wants_csv(output_format, request.headers.get("accept", "")):
            return csv_export.gradebook_response(book)  # type: ignore[return-value]
        return Response(book)

    @get("/stats", summary="Grade distribution, most-failed checks, most-needed lesson sections",
         responses=error_responses(400, 401))
    async def stats(self, db_session: DbSession, grade_bands: GradeBands,
                    repository: RepositoryFilter = None) -> Stats:
        return await class_stats_for(db_session, grade_bands, repository)


class JobController(_ApiController):
    path = "/api/jobs"
    tags = ["jobs"]  # noqa: RUF012

    @get("/", summary="The grading queue, newest first", responses=error_responses(400, 401))
    async def list(self, db_session: DbSession, status: JobStatusFilter = None, limit: Limit = 50,
                   cursor: Cursor = None) -> JobPage:
        items = await list_jobs(db_session, status, decode_cursor(cursor), limit + 1)
        next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
        return JobPage(items=items[:limit], next_cursor=next_cursor, limit=limit)


API_CONTROLLERS = [SubmissionController, StudentController, GradebookController, JobController]
