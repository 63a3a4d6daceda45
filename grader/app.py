"""The Litestar application: the service's composition root.

The lifespan builds the engine, the intake, the GitHub client and the job processor from the settings
and the rubric it is given, and passes them down; nothing below reads the environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ServiceUnavailableException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Redirect
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from grader import __version__
from grader.api.controllers import API_CONTROLLERS
from grader.api.course_controllers import COURSE_CONTROLLERS
from grader.api.course_scope import assignment_scopes
from grader.api.dependencies import provide_grade_bands
from grader.api.errors import error_response
from grader.api.openapi import api_components
from grader.api.standings import keep_standings
from grader.dashboard.controller import DASHBOARD_CONTROLLERS, HOME_PATH
from grader.db.engine import check_database_file, make_engine, make_read_sessionmaker, make_sessionmaker
from grader.db.errors import DatabaseReplacedError, first_line, is_unavailable
from grader.db.session import DbSession, provide_db_session
from grader.db.writer import TransactionWriter
from grader.github.client import GitHubClient
from grader.grading.rubric import Rubric, RubricSet
from grader.pipeline import bind_processor, load_processor, prepare_host
from grader.pipeline.context import JobContext
from grader.queue.worker import run_workers
from grader.security_headers import security_headers
from grader.settings import Settings, SettingsError
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.body import PendingBodies
from grader.webhooks.controller import receive_github_webhook
from grader.workflow_reports.controller import workflow_reports_router

log = logging.getLogger("grader.app")
# Every other body is small (a login form, an override); the webhook and the workflow reports set their own.
DEFAULT_MAX_BODY_BYTES = 64 * 1024


@get("/health", tags=["service"], summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@get("/", include_in_schema=False)
async def root() -> Redirect:
    """People who open the service's address land on the dashboard."""
    return Redirect(HOME_PATH)


@get("/ready", tags=["service"], summary="The configured database answers")
async def ready(db_session: DbSession, state: State) -> dict[str, str]:
    try:
        check_database_file(state.engine)
    except DatabaseReplacedError as exc:
        raise ServiceUnavailableException(f"Not ready: {exc}.") from None
    await db_session.execute(text("SELECT 1"))
    return {"status": "ready"}


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "Request failed."
    if exc.status_code == 413:
        message = "The request body is larger than this endpoint accepts."
    response = error_response(exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def database_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """503 only when the database cannot be used; a data or integrity error is not an outage."""
    if is_unavailable(exc):
        log.error("database unavailable", extra={"error_type": type(exc).__name__, "error": first_line(exc)})
        response = error_response(503, "The database is unavailable; try again shortly.")
        response.headers["Retry-After"] = "30"
        return response
    if isinstance(exc, IntegrityError):
        log.warning("database integrity error", extra={"path": request.scope.get("path"), "error": first_line(exc)})
        return error_response(409, "The request conflicts with stored data.")
    return _unexpected_error(request, exc)


def _unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal error; it has been logged.")


def create_app(settings: Settings, rubrics: Rubric | RubricSet, *, workers: bool = True) -> Litestar:
    """Build the application; the engine is made in the lifespan and disposed when it ends.

    `rubrics`: the rubric, or with a course file the set of every assignment's (`load_rubric_set`).
    `workers=False` leaves grading to `grader worker` processes (and to tests that drive the queue).
    """
    if not settings.session.secret:
        raise SettingsError("GRADER_SESSION_SECRET is empty; grader serve generates one on first start")
    handler = load_processor(settings.queue.processor) if workers else None
    rubric_set = rubrics if isinstance(rubrics, RubricSet) else RubricSet(rubrics)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database)
        sessionmaker, read_sessionmaker = make_sessionmaker(engine), make_read_sessionmaker(engine)
        writer = TransactionWriter(engine, settings.database)
        app.state.update(settings=settings, rubric=rubric_set.default, rubrics=rubric_set, engine=engine,
                         sessionmaker=sessionmaker, read_sessionmaker=read_sessionmaker,
                         intake=IntakeBatcher(writer, retry_attempts=settings.database.retry_attempts,
                                              course=settings.course),
                         pending_bodies=PendingBodies(settings.webhook.max_pending_bodies,
                                                      settings.webhook.max_pending_per_client,
                                                      settings.webhook.pending_wait_seconds))
        stop = asyncio.Event()
        keeping = asyncio.create_task(keep_standings(sessionmaker, read_sessionmaker,
                                                     assignment_scopes(settings.course, rubric_set), stop,
                                                     settings.queue.standings_seconds))
        running = None
        if handler is not None and settings.queue.workers > 0:
            context = JobContext(settings, sessionmaker, rubric_set.default, GitHubClient(settings.github),
                                 rubric_set.by_assignment)
            await prepare_host(context)
            running = asyncio.create_task(run_workers(sessionmaker, settings, stop, bind_processor(handler, context)))
        try:
            yield
        finally:
            stop.set()
            if running is not None:
                await running
            await keeping
            await writer.close()
            await engine.dispose()

    return Litestar(
        route_handlers=[root, health, ready, receive_github_webhook, workflow_reports_router(settings.oidc),
                        *API_CONTROLLERS, *COURSE_CONTROLLERS, *DASHBOARD_CONTROLLERS],
        dependencies={"db_session": Provide(provide_db_session),
                      "grade_bands": Provide(provide_grade_bands, sync_to_thread=False)},
        lifespan=[lifespan],
        middleware=[security_headers],
        request_max_body_size=DEFAULT_MAX_BODY_BYTES,
        exception_handlers={
            HTTPException: _http_error,
            DBAPIError: database_error_response,
            PoolTimeoutError: database_error_response,
            ConnectionError: database_error_response,  # asyncpg's refused connection; a replaced SQLite file
            Exception: _unexpected_error,
        },
        # The schema as JSON only: the HTML viewers load scripts from CDNs, which the CSP forbids.
        openapi_config=OpenAPIConfig(title="grader", version=__version__, path="/schema",
                                     components=api_components(), render_plugins=[JsonRenderPlugin()]),
        debug=False,
    )
