"""`POST /webhooks/github`: verify the raw body, then parse, then store in one transaction."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, NotAuthorizedException, ServiceUnavailableException

from grader.settings import GITHUB_PAYLOAD_CAP_BYTES, Settings
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.events import (
    Decision,
    PayloadError,
    PullRequestEvent,
    decide,
    parse_pull_request,
    read_action,
)
from grader.webhooks.intake import IntakeOutcome, IntakeResult, Push
from grader.webhooks.signature import SignatureError, verify_signature

log = logging.getLogger("grader.webhooks")


@post("/webhooks/github", status_code=202, request_max_body_size=GITHUB_PAYLOAD_CAP_BYTES,
      tags=["webhooks"], summary="Receive a GitHub webhook delivery")
async def receive_github_webhook(request: Request[Any, Any, Any], state: State) -> Response[dict[str, object]]:
    started = time.perf_counter()
    settings: Settings = state.settings
    body = await _verified_body(request, settings.webhook.secret)
    delivery_id, event = _delivery_headers(request)
    action, push = _parse(body, event)
    if push is None:
        _log_delivery(delivery_id, event, action, "ignored", started)
        return Response({"status": "ignored", "event": event, "action": action}, status_code=200)
    result = await _store(state.intake, Push(delivery_id, push))
    _log_delivery(delivery_id, event, action, result.outcome.value, started, push, result)
    if result.outcome is IntakeOutcome.QUEUED:
        return Response({"status": result.outcome.value, "submission_id": result.submission_id,
                         "job_id": result.job_id}, status_code=202)
    return Response({"status": result.outcome.value, "submission_id": result.submission_id}, status_code=200)


async def _verified_body(request: Request[Any, Any, Any], secret: str) -> bytes:
    """The raw body, read only up to the cap and returned only if GitHub signed it with our secret."""
    if not secret:
        raise ServiceUnavailableException("GITHUB_WEBHOOK_SECRET is not set, so no delivery can be verified.")
    body = await request.body()
    try:
        verify_signature(secret, body, request.headers.get("x-hub-signature-256"),
                         request.headers.get("x-hub-signature"))
    except SignatureError as exc:
        raise NotAuthorizedException(str(exc)) from None
    return body


def _delivery_headers(request: Request[Any, Any, Any]) -> tuple[str, str]:
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    event = request.headers.get("x-github-event", "").strip()
    if not delivery_id or not event:
        raise ClientException("The X-GitHub-Delivery and X-GitHub-Event headers are required.")
    if len(delivery_id) > 100:
        raise ClientException("X-GitHub-Delivery is longer than 100 characters.")
    return delivery_id, event


def _parse(body: bytes, event: str) -> tuple[str, PullRequestEvent | None]:
    """The payload's action, and the push to grade (None for events and actions we only acknowledge)."""
    try:
        action = read_action(body)
        if decide(event, action) is Decision.IGNORE:
            return action, None
        return action, parse_pull_request(body)
    except PayloadError as exc:
        raise ClientException(str(exc)) from None


async def _store(intake: IntakeBatcher, push: Push) -> IntakeResult:
    try:
        return await intake.store(push)
    except OSError as exc:  # the database host is unreachable: asyncpg raises before SQLAlchemy wraps
        raise ServiceUnavailableException("The database is unavailable; GitHub will redeliver.") from exc


def _log_delivery(delivery_id: str, event: str, action: str, outcome: str, started: float,
                  push: PullRequestEvent | None = None, result: IntakeResult | None = None) -> None:
    fields: dict[str, object] = {"delivery_id": delivery_id, "github_event": event, "action": action,
                                 "outcome": outcome,
                                 "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    if push is not None:
        fields.update(repo=push.repository.full_name, pr=push.pull_request.number, sha=push.pull_request.head.sha)
    if result is not None:
        fields.update(job_id=result.job_id, cancelled_jobs=result.cancelled_jobs)
    log.info("delivery", extra=fields)
