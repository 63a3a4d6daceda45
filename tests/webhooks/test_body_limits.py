"""What an unverified webhook body may cost: a small buffer, a file beyond it, and one of a few slots."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from grader.app import create_app
from grader.settings import HttpSettings, WebhookSettings
from grader.webhooks.body import BodySpool
from grader.webhooks.signature import BodySignature, SignatureError, sign
from tests.conftest import WEBHOOK_SECRET, make_settings, shipped_rubric
from tests.support.polling import eventually
from tests.support.webhooks import pull_request_payload, signed_delivery
from tests.webhooks.test_webhook import URL, count_rows

KIB = 1024


async def test_body_spool__keeps_a_small_body_in_memory_and_a_large_one_in_an_unlinked_file(tmp_path: Path) -> None:
    small, large = BodySpool(64 * KIB, str(tmp_path)), BodySpool(64 * KIB, str(tmp_path))
    await small.write(b"x" * 60 * KIB)
    pieces = [os.urandom(40 * KIB) for _ in range(10)]
    for piece in pieces:
        await large.write(piece)
    assert (small.on_disk, small.in_memory) == (False, 60 * KIB)
    assert (large.on_disk, large.in_memory) == (True, 0)
    assert list(tmp_path.iterdir()) == []  # the file has no name: nothing is left behind, whatever happens
    assert await large.read() == b"".join(pieces)
    assert await small.read() == b"x" * 60 * KIB
    small.close()
    large.close()


def test_body_signature__computed_in_pieces_is_the_signature_of_the_whole() -> None:
    body = os.urandom(300 * KIB)
    signature = BodySignature(WEBHOOK_SECRET, sign(WEBHOOK_SECRET, body))
    for start in range(0, len(body), 7 * KIB):
        signature.update(body[start:start + 7 * KIB])
    signature.verify()
    tampered = BodySignature(WEBHOOK_SECRET, sign(WEBHOOK_SECRET, body))
    tampered.update(body[:-1])
    with pytest.raises(SignatureError, match="does not match"):
        tampered.verify()


def _settings(database_url: str, **webhook: object):
    return make_settings(database_url, webhook=WebhookSettings(secret=WEBHOOK_SECRET, **webhook),
                         http=HttpSettings(body_timeout_seconds=15))


async def test_webhook__large_signed_body_is_verified_from_its_spool_and_queued(
        database_url, engine, sessionmaker, tmp_path: Path) -> None:
    payload = pull_request_payload(sha="e" * 40)
    payload["filler"] = "y" * (3 * 1024 * KIB)  # GitHub sends fields we do not read; this one is large
    settings = _settings(database_url, memory_bytes=64 * KIB, spool_dir=tmp_path)
    body, headers = signed_delivery(payload, secret=WEBHOOK_SECRET)
    async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False)) as client:
        response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 202
    assert list(tmp_path.iterdir()) == []
    assert (await count_rows(sessionmaker))["jobs"] == 1


class Stall:
    """A request body that sends its first piece, then waits until released (a client gone quiet)."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.released = asyncio.Event()
        self.pieces_taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pieces_taken += 1
        yield self.first
        await self.released.wait()
        self.pieces_taken += 1
        yield b"}"


async def test_webhook__bodies_past_the_pending_cap_get_503_with_retry_after(database_url, engine,
                                                                             sessionmaker) -> None:
    settings = _settings(database_url, max_pending_bodies=2, max_pending_per_client=2, pending_wait_seconds=0.2)
    app = create_app(settings, shipped_rubric(), workers=False)
    body, headers = signed_delivery(pull_request_payload(sha="f" * 40), secret=WEBHOOK_SECRET)
    stalls = [Stall(b"{"), Stall(b"{")]
    async with AsyncTestClient(app=app) as client, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
        stalled = [asyncio.create_task(raw.post(URL, content=stall, headers={**headers, "x-github-delivery": str(n)}))
                   for n, stall in enumerate(stalls)]
        await eventually(lambda: _pending(app, 2), what="two stalled bodies holding both slots")
        refused = await client.post(URL, content=body, headers=headers)
        for stall in stalls:
            stall.released.set()
        finished = await asyncio.gather(*stalled)
        accepted = await client.post(URL, content=body, headers=headers)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "15"
    assert "Too many deliveries" in refused.json()["error"]
    assert [response.status_code for response in finished] == [401, 401]  # "{}" is not what they signed
    assert accepted.status_code == 202
    assert (await count_rows(sessionmaker))["jobs"] == 1


async def _pending(app, count: int) -> bool:
    return app.state.pending_bodies.count == count


def _from(app, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 40000)),
                             base_url="http://testserver")


async def test_webhook__one_client_cannot_take_the_slots_another_needs(database_url, engine, sessionmaker) -> None:
    settings = _settings(database_url, max_pending_bodies=8, max_pending_per_client=2, pending_wait_seconds=0.2)
    app = create_app(settings, shipped_rubric(), workers=False)
    body, headers = signed_delivery(pull_request_payload(sha="1" * 40), secret=WEBHOOK_SECRET)
    stalls = [Stall(b"{"), Stall(b"{")]
    async with AsyncTestClient(app=app), _from(app, "203.0.113.9") as attacker, _from(app, "192.0.2.1") as github:
        stalled = [asyncio.create_task(attacker.post(URL, content=stall, headers={**headers, "x-github-delivery": n}))
                   for n, stall in zip("ab", stalls, strict=True)]
        await eventually(lambda: _pending(app, 2), what="the attacker's two stalled bodies")
        third = await attacker.post(URL, content=body, headers=headers)
        delivered = await github.post(URL, content=body, headers=headers)
        for stall in stalls:
            stall.released.set()
        await asyncio.gather(*stalled)
    assert (third.status_code, delivered.status_code) == (503, 202)
    assert (await count_rows(sessionmaker))["jobs"] == 1


@pytest.mark.parametrize("signature", [None, "sha256=xyz", "sha1=" + "0" * 40, "sha256=" + "0" * 63])
async def test_webhook__a_signature_that_cannot_match_is_401_before_the_body_is_read(
        database_url, engine, signature: str | None) -> None:
    app = create_app(_settings(database_url), shipped_rubric(), workers=False)
    stall = Stall(json.dumps(pull_request_payload()).encode())
    stall.released.set()  # were the body read first, it would be read to the end and counted
    _, headers = signed_delivery(b"{}", secret=WEBHOOK_SECRET)
    headers.pop("x-hub-signature-256")
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    async with AsyncTestClient(app=app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                           base_url="http://testserver") as raw:
        response = await raw.post(URL, content=stall, headers=headers)
    assert response.status_code == 401
    assert stall.pieces_taken == 0
