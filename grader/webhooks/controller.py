"""`POST /webhooks/github`: check the headers, verify the body as it streams in, then parse, then store.

Nothing of an unauthenticated body is trusted or kept beyond a small buffer (`grader.webhooks.body`);
only a body whose HMAC matches is parsed, and only fields of GitHub's own shapes are stored.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    ServiceUnavailableException,
)

from grader.db.errors import is_unavailable
from grader.settings import GITHUB_PAYLOAD_CAP_BYTES, Settings
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.body import (
    BodyTooLargeError,
    ClientGoneError,
    PendingBodies,
    TooManyPendingError,
    receive_verified,
)
from grader.webhooks.events import PayloadError, PullRequestEvent, parse_delivery, payload_json
from grader.webhooks.intake import IntakeOutcome, IntakeResult, Push
from grader.webhooks.signature import BodySignature, SignatureError, claimed_signature

log = logging.getLogger("grader.webhooks")

# GitHub's delivery ids are GUIDs and its event names lower-case words; anything else is not from GitHub.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_EVENT = re.compile(r"[a-z_]{1,64}")
BUSY_MESSAGE = "Too many deliveries are being received at once; retry shortly."


@post("/webhooks/github", status_code=202, request_max_body_size=GITHUB_PAYLOAD_CAP_BYTES,
      tags=["webhooks"], summary="Receive a GitHub webhook delivery")
async def receive_github_webhook(request: Request[Any, Any, Any], state: State) -> Response[dict[str, object]]:
    started = time.perf_counter()
    try:
        return await _receive(request, state, started)
    except HTTPException as exc:
        _log_rejected(request, exc, started)
        raise


async def _receive(request: Request[Any, Any, Any], state: State, started: float) -> Response[dict[str, object]]:
    settings: Settings = state.settings
    signature = _claimed_signature(request, settings.webhook.secret)
    delivery_id, event = _delivery_headers(request)
    body = await _verified_body(request, signature, settings, state.pending_bodies)
    action, push = _parse(body, request.headers.get("content-type", ""), event, settings.http.max_json_depth)
    if push is None:
        _log_delivery(delivery_id, event, action, "ignored", started)
        return Response({"status": "ignored", "event": event, "action": action}, status_code=200)
    result = await _store(state.intake, Push(delivery_id, push))
    _log_delivery(delivery_id, event, action, result.outcome.value, started, push, result)
    if result.outcome is IntakeOutcome.QUEUED:
        return Response({"status": result.outcome.value, "submission_id": result.submission_id,
                         "job_id": result.job_id}, status_code=202)
    return Response({"status": result.outcome.value, "submission_id": result.submission_id}, status_code=200)


def _claimed_signature(request: Request[Any, Any, Any], secret: str) -> BodySignature:
    """Refuse before reading the body when no signature could possibly match."""
    if not secret:
        raise ServiceUnavailableException("GITHUB_WEBHOOK_SECRET is not set, so no delivery can be verified.")
    try:
        claimed = claimed_signature(request.headers.get("x-hub-signature-256"),
                                    request.headers.get("x-hub-signature"))
    except SignatureError as exc:
        raise NotAuthorizedException(str(exc)) from None
    return BodySignature(secret, claimed)


def _delivery_headers(request: Request[Any, Any, Any]) -> tuple[str, str]:
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    event = request.headers.get("x-github-event", "").strip()
    if not delivery_id or not event:
        raise ClientException("The X-GitHub-Delivery and X-GitHub-Event headers are required.")
    if _DELIVERY_ID.fullmatch(delivery_id) is None:
        raise ClientException("X-GitHub-Delivery must be 1 to 100 letters, digits, '.', '_' or '-'.")
    if _EVENT.fullmatch(event) is None:
        raise ClientException("X-GitHub-Event must be an event name such as pull_request.")
    return delivery_id, event


async def _verified_body(request: Request[Any, Any, Any], signature: BodySignature, settings: Settings,
                         pending: PendingBodies) -> bytes:
    """The raw body, read only up to the cap and returned only if GitHub signed it with our secret."""
    if (request.content_length or 0) > settings.webhook.max_body_bytes:
        raise HTTPException(status_code=413)
    client = request.client.host if request.client else ""  # the front's X-Forwarded-For when trusted
    try:
        async with pending.slot(client):
            return await receive_verified(request.receive, signature, settings.webhook)
    except TooManyPendingError:
        log.warning("delivery refused: too many pending bodies", extra={"pending": pending.count, "client": client})
        raise ServiceUnavailableException(BUSY_MESSAGE, headers={
            "Retry-After": str(math.ceil(settings.http.body_timeout_seconds))}) from None
    except BodyTooLargeError:
        raise HTTPException(status_code=413) from None
    except SignatureError as exc:
        raise NotAuthorizedException(str(exc)) from None
    except ClientGoneError:
        raise ClientException("The connection closed before the whole body arrived.") from None
    except OSError as exc:  # the spool directory is full or gone
        log.error("delivery not buffered", extra={"error": str(exc)})
        raise ServiceUnavailableException("The delivery cannot be buffered; retry shortly.",
                                          headers={"Retry-After": "30"}) from None


def _parse(body: bytes, content_type: str, event: str, max_depth: int) -> tuple[str, PullRequestEvent | None]:
    try:
        return parse_delivery(event, payload_json(body, content_type), max_depth)
    except PayloadError as exc:
        raise ClientException(str(exc)) from None


async def _store(intake: IntakeBatcher, push: Push) -> IntakeResult:
    try:
        return await intake.store(push)
    except Exception as exc:
        if is_unavailable(exc):
            log.error("database unavailable", extra={"error_type": type(exc).__name__})
            raise ServiceUnavailableException("The database is unavailable; redeliver shortly.",
                                              headers={"Retry-After": "30"}) from exc
        raise


def _log_rejected(request: Request[Any, Any, Any], exc: HTTPException, started: float) -> None:
    """One line per refused delivery: the status and our own reason; never the body or a header's secret."""
    delivery_id = request.headers.get("x-github-delivery", "")
    event = request.headers.get("x-github-event", "")
    log.warning("delivery rejected", extra={
        "status": exc.status_code, "reason": exc.detail if isinstance(exc.detail, str) else "",
        "delivery_id": delivery_id if _DELIVERY_ID.fullmatch(delivery_id) else None,
        "github_event": event if _EVENT.fullmatch(event) else None,
        "client": request.client.host if request.client else None,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2)})


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
