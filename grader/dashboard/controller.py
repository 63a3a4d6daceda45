"""Dashboard pages behind the API tokens: a login form that sets a signed cookie, then the gradebook.

Pages are plain server-rendered HTML (sorting is a link, the chart is inline SVG), so they work without
JavaScript and a test can read them as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from grader.api.dependencies import GradeBands
from grader.api.detail_queries import get_submission_detail, read_grade
from grader.api.gradebook_queries import activity_by_student, gradebook_rows, grades_by_student
from grader.api.parameters import MAX_ID
from grader.api.stats_queries import class_stats_for
from grader.api.submission_queries import SubmissionFilters, list_submissions
from grader.api.tokens import find_active_token
from grader.dashboard.charts import grade_distribution_svg
from grader.dashboard.render import page
from grader.dashboard.session import COOKIE_NAME, SESSION_SECONDS, session_cookie_value, verified_token_id
from grader.dashboard.sorting import SORTABLE, sort_rows
from grader.db.session import DbSession
from grader.feedback.comment import CommentContext, render_comment

LOGIN_PATH = "/dashboard/login"
HOME_PATH = "/dashboard"
BAD_TOKEN_MESSAGE = "That token is not valid (unknown or revoked); make one with: grader token create NAME"  # noqa: S105


@dataclass
class LoginForm:
    token: str = ""


async def require_dashboard_session(connection: ASGIConnection[Any, Any, Any, Any],
                                    _: BaseRouteHandler) -> None:
    async with connection.app.state.sessionmaker() as session:
        if await verified_token_id(session, connection.cookies.get(COOKIE_NAME)) is None:
            raise NotAuthorizedException("Log in with an API token.")


def _to_login(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def _not_found(_: Request[Any, Any, Any], exc: NotFoundException) -> Response[str]:
    return page("not_found.html", status_code=404, message=str(exc.detail))


class DashboardLoginController(Controller):
    path = HOME_PATH
    include_in_schema = False

    @get("/login")
    async def login_form(self) -> Response[str]:
        return page("login.html", error=None)

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any], db_session: DbSession,
                    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
                    ) -> Response[Any]:
        token = await find_active_token(db_session, data.token.strip()) if data.token.strip() else None
        if token is None:
            return page("login.html", status_code=401, error=BAD_TOKEN_MESSAGE)
        cookie = Cookie(key=COOKIE_NAME, value=session_cookie_value(token), max_age=SESSION_SECONDS,
                        path=HOME_PATH, httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return Redirect(HOME_PATH, status_code=303, cookies=[cookie])

    @post("/logout", status_code=303)
    async def logout(self) -> Response[Any]:
        return Redirect(LOGIN_PATH, status_code=303,
                        cookies=[Cookie(key=COOKIE_NAME, value="", max_age=0, path=HOME_PATH)])


class DashboardController(Controller):
    path = HOME_PATH
    include_in_schema = False
    guards = [require_dashboard_session]  # noqa: RUF012 - Litestar reads these as class attributes
    exception_handlers = {NotAuthorizedException: _to_login, NotFoundException: _not_found}  # noqa: RUF012

    @get("/")
    async def gradebook(self, db_session: DbSession, grade_bands: GradeBands, sort: FromQuery[str] = "student",
                        order: FromQuery[str] = "asc") -> Response[str]:
        descending = order == "desc"
        rows = sort_rows(await gradebook_rows(db_session), sort, descending, grade_bands)
        stats = await class_stats_for(db_session, grade_bands)
        chart = grade_distribution_svg(stats.grade_distribution, grade_bands)
        return page("gradebook.html", rows=rows, stats=stats, chart=chart, columns=SORTABLE,
                    sort=sort if sort in SORTABLE else "student", descending=descending)

    @get("/submissions/{submission_id:int}")
    async def submission(self, db_session: DbSession, submission_id: FromPath[int]) -> Response[str]:
        in_range = 0 < submission_id <= MAX_ID
        detail = await get_submission_detail(db_session, submission_id) if in_range else None
        if detail is None:
            raise NotFoundException(f"No submission has id {submission_id}.")
        shown = detail.result or detail.advisory_result
        graded = read_grade(shown.report) if shown else None
        context = CommentContext(repo=detail.repository, head_sha=detail.head_sha)
        comment = render_comment(graded, context) if graded else ""
        titles = {check.id: check.title for check in graded.checks} if graded else {}
        to_fix = [titles.get(check_id, check_id) for check_id in graded.to_next_grade] if graded else []
        return page("submission.html", detail=detail, shown=shown, graded=graded, comment=comment, to_fix=to_fix)

    @get("/students/{login:str}")
    async def student(self, db_session: DbSession, login: FromPath[str]) -> Response[str]:
        activity = (await activity_by_student(db_session, student=login)).get(login)
        if activity is None:
            raise NotFoundException(f"No submission is by {login}.")
        grades = (await grades_by_student(db_session, student=login)).get(login)
        submissions = await list_submissions(db_session, SubmissionFilters(student=login), None)
        return page("student.html", login=login, activity=activity, grades=grades, submissions=submissions)


DASHBOARD_CONTROLLERS = [DashboardLoginController, DashboardController]
