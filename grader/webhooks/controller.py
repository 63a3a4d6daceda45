"""`POST /webhooks/github`: check the headers, verify the body as it streams in, then parse, then store.

Nothing of an unauthenticated body is trusted or kept beyond a small buffer (`grader.webhooks.body`);
only a body whose HMAC matches is parsed, and only fields of GitHub's own shapes are stored.

The route is a plain ASGI handler: it reads the few headers it needs from the scope and sends
responses it encodes itself, without Litestar's request, parameter and response objects, which cost
more per delivery than verifying and parsing the body. Litestar still routes to it, its middleware
(the security headers) still wraps it, and each refusal is a Litestar `HTTPException`, answered by
the application's one error format and logged as one line by `_log_rejected`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any, cast

import msgspec
from litestar import asgi
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    ServiceUnavailableException,
)
from litestar.types import HTTPScope, Receive, Scope, Send

from grader.db.errors import is_unavailable
from grader.settings import Settings
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.body import (
    BodyTooLargeError,
    ClientGoneError,
    PendingBodies,
    TooManyPendingError,
    receive_verified,
)
from grader.webhooks.delivery_log import log_delivery
from grader.webhooks.events import PayloadError, PullRequestEvent, parse_delivery, payload_json
from grader.webhooks.intake import IntakeOutcome, IntakeResult, Push
from grader.webhooks.signature import BodySignature, SignatureError, claimed_signature

log = logging.getLogger("grader.webhooks")

PATH = "/webhooks/github"
# GitHub's delivery ids are GUIDs and its event names lower-case words; anything else is not from GitHub.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_EVENT = re.compile(r"[a-z_]{1,64}")
BUSY_MESSAGE = "Too many deliveries are being received at once; retry shortly."
ALLOWED_METHODS = "POST, OPTIONS"
# The request headers the route reads; the first of repeated ones counts.
_WANTED = frozenset({b"x-hub-signature-256", b"x-hub-signature", b"x-github-delivery", b"x-github-event",
                     b"content-type", b"content-length"})
_JSON_HEADERS = [(b"content-type", b"application/json")]
_encode = msgspec.json.Encoder().encode


@asgi(PATH, copy_scope=False)
async def receive_github_webhook(scope: Scope, receive: Receive, send: Send) -> None:
    started = time.perf_counter()
    method = cast("HTTPScope", scope)["method"]  # an HTTP route: Litestar sends no websocket here
    if method != "POST":
        await _other_method(method, send)
        return
    headers = _headers(scope)
    try:
        status, body = await _receive(scope, receive, headers, started)
    except HTTPException as exc:
        _log_rejected(scope, headers, exc, started)
        raise
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _headers(scope: Scope) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value.decode("latin-1")
    return found


async def _other_method(method: str, send: Send) -> None:
    """What Litestar answers on a POST route: OPTIONS lists the methods, any other is a 405."""
    if method != "OPTIONS":
        raise MethodNotAllowedException(headers={"Allow": ALLOWED_METHODS})
    await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", b"OPTIONS, POST")]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _receive(scope: Scope, receive: Receive, headers: dict[bytes, str], started: float) -> tuple[int, bytes]:
    """The status and JSON body of the answer to a delivery that passed every check."""
    state: State = scope["litestar_app"].state
    settings: Settings = state.settings
    signature = _claimed_signature(headers, settings.webhook.secret)
    delivery_id, event = _delivery_headers(headers)
    body = await _verified_body(scope, receive, headers, signature, settings, state.pending_bodies)
    action, push = _parse(body, headers.get(b"content-type", ""), event, settings.http.max_json_depth)
    if push is None:
        log_delivery(delivery_id, event, action, "ignored", started)
        return 200, _encode({"status": "ignored", "event": event, "action": action})
    result = await _store(state.intake, Push(delivery_id, push))
    log_delivery(delivery_id, event, action, result.outcome.value, started, push, result)
    return _answer(result)


def _answer(result: IntakeResult) -> tuple[int, bytes]:
    if result.outcome is IntakeOutcome.QUEUED:
        return 202, _encode({"status": result.outcome.value, "submission_id": result.submission_id,
                             "job_id": result.job_id})
    return 200, _encode({"status": result.outcome.value, "submission_id": result.submission_id})


def _claimed_signature(headers: dict[bytes, str], secret: str) -> BodySignature:
    """Refuse before reading the body when no signature could possibly match."""
    if not secret:
        raise ServiceUnavailableException("GITHUB_WEBHOOK_SECRET is not set, so no delivery can be verified.")
    try:
        claimed = claimed_signature(headers.get(b"x-hub-signature-256"), headers.get(b"x-hub-signature"))
    except SignatureError as exc:
        raise NotAuthorizedException(str(exc)) from None
    return BodySignature(secret, claimed)


def _delivery_headers(headers: dict[bytes, str]) -> tuple[str, str]:
    delivery_id = headers.get(b"x-github-delivery", "").strip()
    event = headers.get(b"x-github-event", "").strip()
    if not delivery_id or not event:
        raise ClientException("The X-GitHub-Delivery and X-GitHub-Event headers are required.")
    if _DELIVERY_ID.fullmatch(delivery_id) is None:
        raise ClientException("X-GitHub-Delivery must be 1 to 100 letters, digits, '.', '_' or '-'.")
    if _EVENT.fullmatch(event) is None:
        raise ClientException("X-GitHub-Event must be an event name such as pull_request.")
    return delivery_id, event


def _declared_length(headers: dict[bytes, str]) -> int:
    """The Content-Length the client declared (0 when none); the HTTP server has checked its form."""
    value = headers.get(b"content-length", "")
    try:
        return int(value) if value else 0
    except ValueError:
        raise ClientException("Content-Length must be a number of bytes.") from None


async def _verified_body(scope: Scope, receive: Receive, headers: dict[bytes, str], signature: BodySignature,
                         settings: Settings, pending: PendingBodies) -> bytes:
    """The raw body, read only up to the cap and returned only if GitHub signed it with our secret."""
    if _declared_length(headers) > settings.webhook.max_body_bytes:
        raise HTTPException(status_code=413)
    address = scope.get("client")
    client = address[0] if address else ""  # the front's X-Forwarded-For when trusted
    try:
        async with pending.slot(client):
            return await receive_verified(receive, signature, settings.webhook)
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


def _log_rejected(scope: Scope, headers: dict[bytes, str], exc: HTTPException, started: float) -> None:
    """One line per refused delivery: the status and our own reason; never the body or a header's secret."""
    delivery_id = headers.get(b"x-github-delivery", "")
    event = headers.get(b"x-github-event", "")
    client: Any = scope.get("client")
    log.warning("delivery rejected", extra={
        "status": exc.status_code, "reason": exc.detail if isinstance(exc.detail, str) else "",
        "delivery_id": delivery_id if _DELIVERY_ID.fullmatch(delivery_id) else None,
        "github_event": event if _EVENT.fullmatch(event) else None,
        "client": client[0] if client else None,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
