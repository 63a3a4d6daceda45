"""A real `grader serve` under the slow and partial clients of an attacker, while GitHub keeps delivering.

Bounded in count and time, on 127.0.0.1 only: a few hundred connections, deadlines of 2-3 s, about ten
seconds in all. The server's memory must stay flat however much of their bodies the stalled clients
sent, every one of them must be hung up on within its deadline (plus slack for a loaded machine), and
signed deliveries sent meanwhile (from another client address than the attackers') must all be queued.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from tests.conftest import WEBHOOK_SECRET, Database
from tests.support.hostile_clients import (
    MIB,
    idle_after_one_request,
    rss_bytes,
    sample_rss,
    silent,
    silent_and_told,
    stalled_body,
    trickling_after_one_request,
    trickling_headers,
)
from tests.support.webhooks import pull_request_payload, signed_delivery

pytestmark = pytest.mark.slow

HEADER_TIMEOUT, BODY_TIMEOUT, IDLE_TIMEOUT = 2.0, 3.0, 2.0
SLACK = 3.0  # how late a hang-up may come on a loaded 2-core machine
STALLED, SENT_EACH = 16, 5 * MIB  # 80 MiB sent in all: buffered in memory, it would break the bound below
TRICKLING, SILENT, IDLE = 100, 100, 10
RSS_GROWTH_LIMIT = 40 * MIB


async def _deliver_until(base_url: str, done: asyncio.Event) -> list[int]:
    """Signed deliveries, one every 0.1 s, each a new push, until `done` is set."""
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        while not done.is_set():
            index = len(statuses)
            body, headers = signed_delivery(pull_request_payload(sha=f"{index + 1:040x}", number=index + 1),
                                            secret=WEBHOOK_SECRET)
            statuses.append((await client.post("/webhooks/github", content=body, headers=headers)).status_code)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=0.1)
    return statuses


async def _attack(port: int) -> dict[str, list[float]]:
    groups = {
        "stalled": [stalled_body(port, declared=24 * MIB, sent=SENT_EACH) for _ in range(STALLED)],
        "trickling": [trickling_headers(port, every=0.5) for _ in range(TRICKLING)],
        "silent": [silent(port) for _ in range(SILENT)],
        "idle": [idle_after_one_request(port) for _ in range(IDLE)],
        "trickling_second_request": [trickling_after_one_request(port, every=0.5) for _ in range(IDLE)],
    }
    async with asyncio.timeout(30):
        results = await asyncio.gather(*(asyncio.gather(*clients) for clients in groups.values()))
    return dict(zip(groups, results, strict=True))


async def test_edge__stalled_and_trickling_clients_are_cut_off_memory_stays_flat_and_github_gets_through(
        serve, each_database: Database) -> None:
    service = serve(each_database.url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0",
                    GRADER_HTTP_HEADER_TIMEOUT=str(HEADER_TIMEOUT), GRADER_HTTP_BODY_TIMEOUT=str(BODY_TIMEOUT),
                    GRADER_HTTP_IDLE_TIMEOUT=str(IDLE_TIMEOUT))
    port = int(service.base_url.rsplit(":", 1)[1])
    body, headers = signed_delivery(pull_request_payload(sha="f" * 40, number=999), secret=WEBHOOK_SECRET)
    assert httpx.post(f"{service.base_url}/webhooks/github", content=body, headers=headers).status_code == 202
    baseline = rss_bytes(service.process.pid)

    samples: list[int] = []
    sampler = asyncio.create_task(sample_rss(service.process.pid, samples))
    done = asyncio.Event()
    deliveries = asyncio.create_task(_deliver_until(service.base_url, done))
    try:
        (_, told), held = await asyncio.gather(silent_and_told(port), _attack(port))
    finally:
        done.set()
        statuses = await deliveries
        sampler.cancel()

    assert max(held["silent"]) <= HEADER_TIMEOUT + SLACK
    assert max(held["trickling"]) <= HEADER_TIMEOUT + SLACK
    assert max(held["stalled"]) <= BODY_TIMEOUT + SLACK
    assert max(held["idle"]) <= IDLE_TIMEOUT + SLACK
    assert max(held["trickling_second_request"]) <= HEADER_TIMEOUT + SLACK
    assert min(held["silent"]) >= HEADER_TIMEOUT * 0.9  # cut off by the deadline, not by chance
    assert told.startswith(b"HTTP/1.1 408 ")
    growth = max(samples) - baseline
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MIB:.1f} MiB"
    assert len(statuses) >= 10
    assert set(statuses) == {202}, service.log()[-2000:]
    assert httpx.get(f"{service.base_url}/health").status_code == 200
