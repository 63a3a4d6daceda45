"""Dashboard pages behind the API tokens: a login form that sets a signed cookie, then the gradebook of
each assignment (search, filters, pages), a page per student and per submission, and the instructor's
write forms (regrade, override) for tokens of the write scope, each protected by a CSRF token.

Pages are plain server-rendered HTML (sorting and paging are links, the chart is inline SVG, the one
stylesheet a file of its own), so they work without JavaScript under a CSP that allows none, and a test
can read them as text. Every form post is checked for cross-site forgery first (`grader.dashboard.csrf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from grader.api import csv_export
from grader.api.actions import regrade_assignment, set_override
from grader.api.auth import TokenIdentity
from grader.api.course_scope import gradebook_scope
from grader.api.detail_queries import get_submission_detail, read_grade, with_course_view
from grader.api.gradebook_queries import activity_by_student, gradebook, grades_by_student
from grader.api.job_queries import request_regrade
from grader.api.parameters import MAX_ID
from grader.api.stats_queries import class_stats_for, grade_distribution
from grader.api.submission_queries import SubmissionFilters, list_submissions
from grader.api.tokens import find_active_token
from grader.course.config import Course
from grader.course.deadlines import Lateness
from grader.course.presentation import adjusted, instructor_override
from grader.dashboard.charts import grade_distribution_svg
from grader.dashboard.csrf import check_form, is_https, page_with_forms
from grader.dashboard.labels import Labels, column_labels, labels_for
from grader.dashboard.markdown import comment_html
from grader.dashboard.session import COOKIE_NAME, session_cookie_value, verified_token_id
from grader.dashboard.table import SORTABLE, STATUSES, TableQuery, table_page
from grader.db.models import ApiToken, Submission, TokenScope
from grader.db.session import DbSession
from grader.feedback.comment import CommentContext, render_comment
from grader.grading.rubric import RubricSet

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


@dataclass
class ActionForm:
    csrf_token: str = ""
    student: str = ""


@dataclass
class OverrideForm:
    csrf_token: str = ""
    score: str = ""
    note: str = ""


def _labels(state: State) -> Labels:
    course: Course | None = state.settings.course
    return labels_for(course.language if course else "en")


async def require_dashboard_session(connection: ASGIConnection[Any, Any, Any, Any],
                                    _: BaseRouteHandler) -> None:
    settings = connection.app.state.settings.session
    async with connection.app.state.read_sessionmaker() as session:
        token_id = await verified_token_id(session, settings, connection.cookies.get(COOKIE_NAME))
        token = await session.get(ApiToken, token_id) if token_id is not None else None
    if token is None:
        raise NotAuthorizedException("Log in with an API token.")
    connection.state.dashboard_token = TokenIdentity(token.id, token.name, TokenScope(token.scope))


def _to_login(_: Request[Any, Any, Any], __: NotAuthorizedException) -> Response[Any]:
    return Redirect(LOGIN_PATH, status_code=303)


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[str]:
    labels = _labels(request.app.state)
    return page_with_forms(request, "not_found.html", status_code=404, message=str(exc.detail), t=labels,
                           heading=labels.not_found)


def _refused(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[str]:
    return page_with_forms(request, "not_found.html", status_code=403, message=str(exc.detail),
                           t=_labels(request.app.state), heading="403")


def _session_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    return Cookie(key=COOKIE_NAME, value=value, max_age=max_age, path=HOME_PATH, httponly=True,
                  samesite="strict", secure=is_https(request))


@cache
def _stylesheet() -> str:
    return files("grader.dashboard").joinpath("static", STYLESHEET).read_text()


def _check_write(request: Request[Any, Any, Any], submitted: str) -> TokenIdentity:
    """The acting token, once the form's CSRF token and the token's write scope are checked."""
    labels = _labels(request.app.state)
    check_form(request, request.app.state.settings.session.secret, submitted)
    identity: TokenIdentity = request.state.dashboard_token
    if not identity.can_write:
        raise PermissionDeniedException(labels.needs_write)
    return identity


class DashboardLoginController(Controller):
    path = HOME_PATH
    include_in_schema = False
    exception_handlers = {PermissionDeniedException: _refused}  # noqa: RUF012 - Litestar reads these

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
        return page_with_forms(request, "login.html", error=None, t=_labels(state))

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                    data: Annotated[LoginForm, FormBody]) -> Response[Any]:
        settings = state.settings.session
        check_form(request, settings.secret, data.csrf_token)
        token = await find_active_token(db_session, data.token.strip()) if data.token.strip() else None
        if token is None:
            return page_with_forms(request, "login.html", status_code=401, error=BAD_TOKEN_MESSAGE, t=_labels(state))
        cookie = _session_cookie(request, session_cookie_value(settings, token), settings.lifetime_seconds)
        return Redirect(HOME_PATH, status_code=303, cookies=[cookie])

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any], data: Annotated[LogoutForm, FormBody]) -> Response[Any]:
        check_form(request, request.app.state.settings.session.secret, data.csrf_token)
        return Redirect(LOGIN_PATH, status_code=303, cookies=[_session_cookie(request, "", 0)])

    @get(f"/static/{STYLESHEET}", media_type="text/css")
    async def stylesheet(self) -> Response[str]:
        return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


def _common(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What every page of a logged-in instructor shows: labels, the course, who is acting, the form token."""
    state = request.app.state
    return {"t": _labels(state), "course": state.settings.course, "request_query": request.query_params,
            "identity": request.state.dashboard_token, "github_url": state.settings.github.html_url}


def _chosen_assignment(course: Course | None, requested: str | None) -> str | None:
    """The requested assignment; an unknown one (or none) shows the first."""
    if course is None or requested is None or course.assignment(requested) is None:
        return None
    return requested


class DashboardController(Controller):
    path = HOME_PATH
    include_in_schema = False
    guards = [require_dashboard_session]  # noqa: RUF012 - Litestar reads these as class attributes
    exception_handlers = {NotAuthorizedException: _to_login, NotFoundException: _not_found,  # noqa: RUF012
                          PermissionDeniedException: _refused}

    @get("/")
    async def gradebook(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                        assignment: FromQuery[str | None] = None, q: FromQuery[str] = "",
                        status: FromQuery[str] = "", grade: FromQuery[str] = "", late: FromQuery[str] = "",
                        sort: FromQuery[str] = "student", order: FromQuery[str] = "asc",
                        page_number: Annotated[int, QueryParameter(name="page")] = 1,
                        notice: FromQuery[str] = "") -> Response[str]:
        scope = gradebook_scope(state, _chosen_assignment(state.settings.course, assignment))
        chosen = scope.assignment.id if scope.assignment else None
        bands = scope.rubric.band_names
        book = await gradebook(db_session, scope)
        query = TableQuery(search=q[:100], status=status if status in STATUSES else "",
                           grade=grade if grade in bands else "", late=late if late in ("yes", "no") else "",
                           sort=sort if sort in SORTABLE else "student", descending=order == "desc",
                           page=page_number)
        table = table_page(book.rows, query, bands)
        stats = await class_stats_for(db_session, bands, None, chosen)
        # The chart counts the grades of the table (overrides and late penalties included).
        graded = [row.grade for row in book.rows if row.grade is not None]
        chart = grade_distribution_svg(grade_distribution(graded, bands), bands)
        filters = {"assignment": chosen or "", "q": query.search, "status": query.status, "grade": query.grade,
                   "late": query.late}
        return page_with_forms(
            request, "gradebook.html", **_common(request), book=book, scope=scope, table=table, query=query,
            graded_students=len(graded), bands=bands, stats=stats, chart=chart, columns=SORTABLE, statuses=STATUSES,
            column_names=column_labels(_labels(state)), has_roster=any(row.on_roster for row in book.rows),
            filters=filters, link=lambda **changes: "?" + urlencode({**filters, **changes}), notice=notice)

    @get("/export")
    async def export(self, db_session: DbSession, state: State, assignment: FromQuery[str | None] = None,
                     output_format: Annotated[str, QueryParameter(name="format")] = "csv") -> Response[str]:
        """The gradebook's CSV (or Canvas/Moodle import) with the dashboard's session, no API token needed."""
        scope = gradebook_scope(state, _chosen_assignment(state.settings.course, assignment))
        kind = output_format if output_format in ("csv", "canvas", "moodle") else "csv"
        column = scope.assignment.export_column if scope.assignment else "Grade"
        return csv_export.export_response(await gradebook(db_session, scope), kind, column)

    @get("/submissions/{submission_id:int}")
    async def submission(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                         submission_id: FromPath[int], notice: FromQuery[str] = "") -> Response[str]:
        in_range = 0 < submission_id <= MAX_ID
        detail = await get_submission_detail(db_session, submission_id) if in_range else None
        if detail is None:
            raise NotFoundException(f"No submission has id {submission_id}.")
        rubrics: RubricSet = state.rubrics
        course: Course | None = state.settings.course
        detail = await with_course_view(db_session, detail, course, rubrics)
        shown = detail.result or detail.advisory_result
        graded = read_grade(shown.report) if shown else None
        rubric = rubrics.for_assignment(detail.assignment)
        if graded is not None and detail.result is not None:  # as the student's comment shows it
            late, override = detail.late, detail.override
            graded = adjusted(graded, rubric,
                              Lateness(late.days, late.penalty_percent, late.deadline) if late else None,
                              instructor_override(override.score, override.grade, override.note, override.by,
                                                  override.at) if override else None)
            graded = msgspec.structs.replace(graded, since_last=detail.since_last)
        context = CommentContext(repo=detail.repository, head_sha=detail.head_sha,
                                 html_url=state.settings.github.html_url)
        comment = comment_html(render_comment(graded, context)) if graded else ""
        titles = {check.id: check.title for check in graded.checks} if graded else {}
        to_fix = [titles.get(check_id, check_id) for check_id in graded.to_next_grade] if graded else []
        return page_with_forms(request, "submission.html", **_common(request), detail=detail, shown=shown,
                               graded=graded, comment=comment, to_fix=to_fix, bands=rubric.band_names, notice=notice)

    @get("/students/{login:str}")
    async def student(self, request: Request[Any, Any, Any], db_session: DbSession, login: FromPath[str],
                      assignment: FromQuery[str | None] = None, notice: FromQuery[str] = "") -> Response[str]:
        activity = (await activity_by_student(db_session, student=login, assignment=assignment)).get(login)
        if activity is None:
            raise NotFoundException(f"No submission is by {login}.")
        grades = (await grades_by_student(db_session, student=login, assignment=assignment)).get(login)
        submissions = await list_submissions(db_session, SubmissionFilters(student=login, assignment=assignment),
                                             None)
        return page_with_forms(request, "student.html", **_common(request), login=login, activity=activity,
                               grades=grades, submissions=submissions, assignment=assignment, notice=notice)

    @post("/submissions/{submission_id:int}/regrade", status_code=303)
    async def regrade_submission(self, request: Request[Any, Any, Any], db_session: DbSession,
                                 submission_id: FromPath[int],
                                 data: Annotated[ActionForm, FormBody],
                                 ) -> Response[Any]:
        _check_write(request, data.csrf_token)
        async with db_session.begin():
            accepted = await request_regrade(db_session, submission_id) if 0 < submission_id <= MAX_ID else None
        if accepted is None:
            raise NotFoundException(f"No submission has id {submission_id}.")
        queued = urlencode({"notice": "regrade", "queued": int(accepted.created), "already": int(not accepted.created)})
        return Redirect(f"{HOME_PATH}/submissions/{submission_id}?{queued}", status_code=303)

    @post("/submissions/{submission_id:int}/override", status_code=303)
    async def override(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                       submission_id: FromPath[int],
                       data: Annotated[OverrideForm, FormBody],
                       ) -> Response[Any]:
        identity = _check_write(request, data.csrf_token)
        labels = _labels(state)
        try:
            score = float(data.score.replace(",", "."))
        except ValueError:
            raise PermissionDeniedException(labels.invalid_form) from None
        if not 0 <= score <= 100 or not data.note.strip() or len(data.note) > 2000:
            raise PermissionDeniedException(labels.invalid_form)
        async with db_session.begin():
            submission = await db_session.get(Submission, submission_id) if 0 < submission_id <= MAX_ID else None
            if submission is None:
                raise NotFoundException(f"No submission has id {submission_id}.")
            await set_override(db_session, submission, state.rubrics.for_assignment(submission.assignment_id),
                               score, data.note, identity.name)
        return Redirect(f"{HOME_PATH}/submissions/{submission_id}?notice=override", status_code=303)

    @post("/assignments/{assignment_id:str}/regrade", status_code=303)
    async def regrade_assignment(self, request: Request[Any, Any, Any], db_session: DbSession, state: State,
                                 assignment_id: FromPath[str],
                                 data: Annotated[ActionForm, FormBody],
                                 ) -> Response[Any]:
        _check_write(request, data.csrf_token)
        course: Course | None = state.settings.course
        assignment = course.assignment(assignment_id) if course else None
        if assignment is None:
            raise NotFoundException(f"No assignment has id {assignment_id}.")
        async with db_session.begin():
            accepted = await regrade_assignment(db_session, assignment, data.student.strip() or None)
        notice = urlencode({"assignment": assignment.id, "notice": "regrade", "queued": accepted.queued,
                            "already": accepted.already_queued})
        if data.student.strip():
            return Redirect(f"{HOME_PATH}/students/{quote(data.student.strip(), safe='')}?{notice}", status_code=303)
        return Redirect(f"{HOME_PATH}?{notice}", status_code=303)


DASHBOARD_CONTROLLERS = [DashboardLoginController, DashboardController]
