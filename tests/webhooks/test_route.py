"""The webhook route as the plain ASGI handler it is: what it answers to every method, to headers and
bodies as an attacker might shape them, and what every answer carries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from grader.app import create_app
from grader.security_headers import CONTENT_SECURITY_POLICY
from grader.settings import WebhookSettings
from tests.conftest import WEBHOOK_SECRET, make_settings, shipped_rubric
from tests.support.webhooks import pull_request_payload, signed_delivery
from tests.webhooks.test_webhook import URL, count_rows


@pytest.fixture
def app(database_url: str, engine) -> Litestar:
    settings = make_settings(database_url, webhook=WebhookSettings(secret=WEBHOOK_SECRET, max_body_bytes=64 * 1024))
    return create_app(settings, shipped_rubric(), workers=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as client:
        yield client


async def _asgi(app: Litestar, headers: list[tuple[str, str]],
                messages: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """POST to the route with exactly these headers (repeats kept, no Content-Length added) and body messages."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": URL, "raw_path": URL.encode(), "query_string": b"", "root_path": "",
             "headers": [(name.encode(), value.encode()) for name, value in headers],
             "client": ("192.0.2.1", 40000), "server": ("127.0.0.1", 8000), "state": {}}
    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_webhook_route__other_methods_get_a_405_naming_the_allowed_ones(client, sessionmaker, method):
    response = await client.request(method, URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.json() == {"error": "Method Not Allowed", "status_code": 405}
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook_route__options_lists_the_methods(client):
    response = await client.options(URL)
    assert (response.status_code, response.headers["allow"], response.content) == (204, "OPTIONS, POST", b"")


async def test_webhook_route__answers_carry_the_security_headers(client):
    body, headers = signed_delivery(pull_request_payload(sha="a" * 40), secret=WEBHOOK_SECRET)
    accepted = await client.post(URL, content=body, headers=headers)
    refused = await client.post(URL, content=body, headers={**headers, "x-hub-signature-256": "sha256=" + "0" * 64})
    assert (accepted.status_code, refused.status_code) == (202, 401)
    for response in (accepted, refused):
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["content-type"] == "application/json"
    assert accepted.json()["status"] == "queued"


async def _pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


async def test_webhook_route__a_body_sent_in_pieces_is_verified_as_a_whole(app, client, sessionmaker):
    body, headers = signed_delivery(pull_request_payload(sha="b" * 40), secret=WEBHOOK_SECRET)
    forged_body, forged = signed_delivery(pull_request_payload(sha="c" * 40), secret="not-our-secret")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
        accepted = await raw.post(URL, content=_pieces(body, 1000), headers=headers)
        refused = await raw.post(URL, content=_pieces(forged_body, 1000), headers=forged)
    assert (accepted.status_code, refused.status_code) == (202, 401)
    assert (await count_rows(sessionmaker))["jobs"] == 1


async def test_webhook_route__a_body_over_the_cap_in_one_piece_is_413_without_a_declared_length(
        app, client, sessionmaker):
    body, headers = signed_delivery(pull_request_payload(sha="d" * 40) | {"filler": "x" * 70 * 1024},
                                    secret=WEBHOOK_SECRET)
    whole = {"type": "http.request", "body": body, "more_body": False}
    status, answer = await _asgi(app, list(headers.items()), [whole])
    assert status == 413
    assert "larger" in answer["error"]
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook_route__a_declared_length_that_is_not_a_number_is_a_400(app, client):
    body, headers = signed_delivery(pull_request_payload(sha="e" * 40), secret=WEBHOOK_SECRET)
    status, answer = await _asgi(app, [*headers.items(), ("content-length", "lots")],
                                 [{"type": "http.request", "body": body, "more_body": False}])
    assert (status, answer["error"]) == (400, "Content-Length must be a number of bytes.")


async def test_webhook_route__a_client_gone_before_the_first_piece_is_a_400(app, client):
    _, headers = signed_delivery(pull_request_payload(sha="f" * 40), secret=WEBHOOK_SECRET)
    status, answer = await _asgi(app, list(headers.items()), [{"type": "http.disconnect"}])
    assert (status, answer["error"]) == (400, "The connection closed before the whole body arrived.")


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/plain", b"<xml>not json</xml>"),
    ("multipart/form-data; boundary=x", b"--x\r\ncontent-disposition: form-data; name=payload\r\n\r\n{}\r\n--x--"),
    ("application/x-www-form-urlencoded", b'{"action": "opened"}'),
])
async def test_webhook_route__a_signed_body_of_another_content_type_is_a_one_line_400(
        client, sessionmaker, content_type, body):
    _, headers = signed_delivery(body, secret=WEBHOOK_SECRET)
    response = await client.post(URL, content=body, headers={**headers, "content-type": content_type})
    assert response.status_code == 400
    assert "\n" not in response.json()["error"]
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook_route__of_repeated_headers_the_first_counts(app, client, sessionmaker):
    body, headers = signed_delivery(pull_request_payload(sha="9" * 40), secret=WEBHOOK_SECRET)
    signature, forged = headers.pop("x-hub-signature-256"), "sha256=" + "0" * 64
    message = {"type": "http.request", "body": body, "more_body": False}
    first_forged = await _asgi(app, [("x-hub-signature-256", forged), ("x-hub-signature-256", signature),
                                     *headers.items()], [dict(message)])
    first_signed = await _asgi(app, [("x-hub-signature-256", signature), ("x-hub-signature-256", forged),
                                     *headers.items()], [dict(message)])
    assert (first_forged[0], first_signed[0]) == (401, 202)
    assert (await count_rows(sessionmaker))["jobs"] == 1
