"""`POST /api/workflow-reports`: a workflow run's report, authenticated by its GitHub OIDC token.

Verify the token first, then parse the body, then store it as advice in one transaction. The
verifier (and its JWKS cache) is built once when the app is built; without `GRADER_OIDC_AUDIENCE`
the endpoint answers 503 saying so.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response, Router, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotAuthorizedException, ServiceUnavailableException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.auth import bearer_token
from grader.course.matching import match_repository
from grader.db.retry import run_with_retry
from grader.grading.result import GradeResult
from grader.json_depth import JsonTooDeepError, check_json_depth
from grader.settings import OidcSettings
from grader.workflow_reports.oidc import (
    ClaimShapeError,
    JwksUnavailableError,
    OidcError,
    OidcVerifier,
    WorkflowIdentity,
)
from grader.workflow_reports.store import StoredReport, store_advisory_result

log = logging.getLogger("grader.workflow_reports")

MAX_REPORT_BYTES = 5 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Provided per app by `workflow_reports_router`; None when GRADER_OIDC_AUDIENCE is not set.
Verifier = NamedDependency[OidcVerifier | None]


class WorkflowReport(msgspec.Struct, kw_only=True):
    """The body the workflow's `grader workflow send` posts."""

    head_sha: str
    result: GradeResult


def parse_report(body: bytes, bands: list[str], max_depth: int = 64) -> WorkflowReport:
    """Decode and sanity-check the body; raise ClientException with one line on anything wrong."""
    try:
        check_json_depth(body, max_depth)
        report = msgspec.json.decode(body, type=WorkflowReport)
    except JsonTooDeepError as exc:
        raise ClientException(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"The body is not a workflow report: {exc}.") from None
    if not _SHA.match(report.head_sha):
        raise ClientException("head_sha must be a 40-character lowercase hex commit SHA.")
    if not 0 <= report.result.score <= 100:
        raise ClientException("result.score must be between 0 and 100.")
    if report.result.grade not in bands:
        raise ClientException(f"result.grade must be one of {', '.join(bands)}.")
    return report


def _oidc_token(request: Request[Any, Any, Any]) -> str:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise NotAuthorizedException("Send the run's GitHub OIDC token as 'Authorization: Bearer <token>'.",
                                     headers={"WWW-Authenticate": "Bearer"})
    return token


async def _verified_identity(verifier: OidcVerifier | None, token: str) -> WorkflowIdentity:
    if verifier is None:
        raise ServiceUnavailableException(
            "GRADER_OIDC_AUDIENCE is not set, so workflow reports are not accepted.")
    try:
        return await asyncio.to_thread(verifier.verify, token)
    except JwksUnavailableError as exc:
        raise ServiceUnavailableException(f"The OIDC token cannot be checked: {exc}.") from None
    except ClaimShapeError as exc:
        log.info("workflow report rejected", extra={"reason": str(exc)})
        raise ClientException(f"The OIDC token's {exc}.") from None
    except OidcError as exc:
        log.info("workflow report rejected", extra={"reason": str(exc)})
        raise NotAuthorizedException(f"The OIDC token is rejected: {exc}.",
                                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


@post("/", status_code=201, request_max_body_size=MAX_REPORT_BYTES, tags=["workflow reports"],
      summary="Store a reusable-workflow run's report as an advisory result")
async def receive_workflow_report(request: Request[Any, Any, Any], state: State,
                                  oidc_verifier: Verifier) -> Response[dict[str, Any]]:
    identity = await _verified_identity(oidc_verifier, _oidc_token(request))
    course = state.settings.course
    assignment_id = match_repository(course, identity.repository).assignment_id if course else None
    report = parse_report(await request.body(), state.rubrics.for_assignment(assignment_id).band_names,
                          state.settings.http.max_json_depth)
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker

    async def store() -> StoredReport:
        async with sessionmaker() as session, session.begin():
            return await store_advisory_result(session, identity, report.head_sha, report.result, assignment_id)

    stored = await run_with_retry(store, attempts=state.settings.database.retry_attempts)
    log.info("workflow report stored", extra={"repo": identity.repository, "pr": identity.pull_request_number,
                                              "sha": report.head_sha, "result_id": stored.result_id})
    return Response({"status": "stored", "advisory": True, "submission_id": stored.submission_id,
                     "result_id": stored.result_id}, status_code=201)


def workflow_reports_router(settings: OidcSettings) -> Router:
    """The endpoint with its verifier (and so one JWKS cache) for the application's life."""
    verifier = OidcVerifier(settings) if settings.enabled else None

    def provide_verifier() -> OidcVerifier | None:
        return verifier

    return Router(path="/api/workflow-reports", route_handlers=[receive_workflow_report],
                  dependencies={"oidc_verifier": Provide(provide_verifier, sync_to_thread=False)})
