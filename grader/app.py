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

from litestar import Litestar, MediaType, Request, Response, get
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from grader import __version__
from grader.api.controllers import API_CONTROLLERS
from grader.api.course_controllers import COURSE_CONTROLLERS
from grader.api.dependencies import provide_grade_bands
from grader.api.openapi import api_components
from grader.dashboard.controller import DASHBOARD_CONTROLLERS
from grader.db.engine import make_engine, make_sessionmaker
from grader.db.session import DbSession, provide_db_session
from grader.github.client import GitHubClient
from grader.grading.rubric import Rubric, RubricSet
from grader.pipeline import bind_processor, load_processor, prepare_host
from grader.pipeline.context import JobContext
from grader.queue.worker import run_workers
from grader.settings import Settings
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.controller import receive_github_webhook
from grader.workflow_reports.controller import workflow_reports_router

log = logging.getLogger("grader.app")


@get("/health", tags=["service"], summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@get("/ready", tags=["service"], summary="The database answers")
async def ready(db_session: DbSession) -> dict[str, str]:
    await db_session.execute(text("SELECT 1"))
    return {"status": "ready"}


def _error_body(status_code: int, message: str) -> Response[dict[str, Any]]:
    return Response({"error": message, "status_code": status_code}, status_code=status_code,
                    media_type=MediaType.JSON)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else "Request failed."
    if exc.status_code == 413:
        message = "The request body is larger than this endpoint accepts."
    response = _error_body(exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _database_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("database unavailable", extra={"error_type": type(exc).__name__})
    return _error_body(503, "The database is unavailable; try again shortly.")


def _unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", exc_info=exc)
    return _error_body(500, "Internal error; it has been logged.")


def create_app(settings: Settings, rubrics: Rubric | RubricSet, *, workers: bool = True) -> Litestar:
    """Build the application; the engine is made in the lifespan and disposed when it ends.

    `rubrics`: the rubric, or with a course file the set of every assignment's (`load_rubric_set`).
    `workers=False` leaves grading to `grader worker` processes (and to tests that drive the queue).
    """
    handler = load_processor(settings.queue.processor) if workers else None
    rubric_set = rubrics if isinstance(rubrics, RubricSet) else RubricSet(rubrics)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database)
        sessionmaker = make_sessionmaker(engine)
        app.state.update(settings=settings, rubric=rubric_set.default, rubrics=rubric_set, engine=engine,
                         sessionmaker=sessionmaker,
                         intake=IntakeBatcher(engine, sessionmaker, retry_attempts=settings.database.retry_attempts,
                                              course=settings.course))
        stop = asyncio.Event()
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
            await engine.dispose()

    return Litestar(
        route_handlers=[health, ready, receive_github_webhook, workflow_reports_router(settings.oidc),
                        *API_CONTROLLERS, *COURSE_CONTROLLERS, *DASHBOARD_CONTROLLERS],
        dependencies={"db_session": Provide(provide_db_session),
                      "grade_bands": Provide(provide_grade_bands, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers={
            HTTPException: _http_error,
            DBAPIError: _database_error,
            ConnectionError: _database_error,
            Exception: _unexpected_error,
        },
        openapi_config=OpenAPIConfig(title="grader", version=__version__, path="/schema",
                                     components=api_components()),
        debug=False,
    )
