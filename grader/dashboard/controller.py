"""Dashboard pages behind the API tokens: a login form that sets a signed cookie, then the gradebook.

Pages are plain server-rendered HTML (sorting is a link, the chart is inline SVG, the one stylesheet a
file of its own), so they work without JavaScript under a CSP that allows none, and a test can read them
as text. Every form post is checked for cross-site forgery first (`grader.dashboard.csrf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
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
from grader.dashboard.csrf import check_form, is_https, page_with_forms
from grader.dashboard.session import COOKIE_NAME, session_cookie_value, verified_token_id
from grader.dashboard.sorting import SORTABLE, sort_rows
from grader.db.session import DbSession
from grader.feedback.comment import CommentContext, render_comment

LOGIN_PATH = "/dashboard/login"
HOME_PATH = "/dashboard"
BAD_TOKEN_MESSAGE = "That token is not valid (unknown or revoked); make one with: grader token create NAME"  # noqa: S105


STYLESHEET = "dashboard.css"
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class LoginForm:
    token: str = ""
    csrf_token: str = ""


@dataclass
class LogoutForm:
    csrf_token: str = ""


async def require_dashboard_session(connection: ASGIConnection[Any, Any, Any, Any],
                                    _: BaseRouteHandler) -> None:
    settings = connection.app.state.settings.session
    async with connection.app.state.sessionmaker() as session:
        if await verified_token_id(session, settings, connection.cookies.get(COOKIE_NAME)) is None:
            raise NotAuthorizedException("Log in with an API token.")


def _to_login(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[str]:
    return page_with_forms(request, "not_found.html", status_code=404, message=str(exc.detail))


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[str]:
    return page_with_forms(request, "forbidden.html", status_code=403, message=str(exc.detail))


def _session_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    return Cookie(key=COOKIE_NAME, value=value, max_age=max_age, path=HOME_PATH, httponly=True,
                  samesite="strict", secure=is_https(request))


@cache
def _stylesheet() -> str:
    return files("grader.dashboard").joinpath("static", STYLESHEET).read_text()


class DashboardLoginController(Controller):
    path = HOME_PATH
    include_in_schema = False
    exception_handlers = {PermissionDeniedException: _forbidden}  # noqa: RUF012 - Litestar reads these

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Response[str]:
        return page_with_forms(request, "login.html", error=None)

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any], db_session: DbSession,
                    data: Annotated[LoginForm, FormBody]) -> Response[Any]:
        settings = request.app.state.settings.session
        check_form(request, settings.secret, data.csrf_token)
        token = await find_active_token(db_session, data.token.strip()) if data.token.strip() else None
        if token is None:
            return page_with_forms(request, "login.html", status_code=401, error=BAD_TOKEN_MESSAGE)
        cookie = _session_cookie(request, session_cookie_value(settings, token), settings.lifetime_seconds)
        return Redirect(HOME_PATH, status_code=303, cookies=[cookie])

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], data: Annotated[LogoutForm, FormBody]) -> Response[Any]:
        check_form(request, request.app.state.settings.session.secret, data.csrf_token)
        return Redirect(LOGIN_PATH, status_code=303, cookies=[_session_cookie(request, "", 0)])

    @get(f"/static/{STYLESHEET}", media_type="text/css")
    async def stylesheet(self) -> Response[str]:
        return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


class DashboardController(Controller):
    path = HOME_PATH
    include_in_schema = False
    guards = [require_dashboard_session]  # noqa: RUF012 - Litestar reads these as class attributes
    exception_handlers = {NotAuthorizedException: _to_login, NotFoundException: _not_found}  # noqa: RUF012

    @get("/")
    async def gradebook(self, request: Request[Any, Any, Any], db_session: DbSession, grade_bands: GradeBands,
                        sort: FromQuery[str] = "student", order: FromQuery[str] = "asc") -> Response[str]:
        descending = order == "desc"
        rows = sort_rows(await gradebook_rows(db_session), sort, descending, grade_bands)
        stats = await class_stats_for(db_session, grade_bands)
        chart = grade_distribution_svg(stats.grade_distribution, grade_bands)
        return page_with_forms(request, "gradebook.html", rows=rows, stats=stats, chart=chart, columns=SORTABLE,
                    sort=sort if sort in SORTABLE else "student", descending=descending)

    @get("/submissions/{submission_id:int}")
    async def submission(self, request: Request[Any, Any, Any], db_session: DbSession,
                         submission_id: FromPath[int]) -> Response[str]:
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
        return page_with_forms(request, "submission.html", detail=detail, shown=shown, graded=graded,
                               comment=comment, to_fix=to_fix)

    @get("/students/{login:str}")
    async def student(self, request: Request[Any, Any, Any], db_session: DbSession,
                      login: FromPath[str]) -> Response[str]:
        activity = (await activity_by_student(db_session, student=login)).get(login)
        if activity is None:
            raise NotFoundException(f"No submission is by {login}.")
        grades = (await grades_by_student(db_session, student=login)).get(login)
        submissions = await list_submissions(db_session, SubmissionFilters(student=login), None)
        return page_with_forms(request, "student.html", login=login, activity=activity, grades=grades,
                               submissions=submissions)


DASHBOARD_CONTROLLERS = [DashboardLoginController, DashboardController]
