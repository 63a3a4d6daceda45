"""A real `grader serve` process on a free port: concurrency, limits, crash recovery, shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from grader.db.models import Delivery, Job, JobStatus, Result, Submission
from tests.conftest import WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.servers import service_env, spawn, stop
from tests.support.webhooks import pull_request_payload, signed_delivery

pytestmark = pytest.mark.slow
SLEEPY = "tests.support.processors:sleepy_processor"


def build_deliveries(distinct: int, duplicates: int) -> list[tuple[bytes, dict[str, str]]]:
    """`distinct` deliveries over distinct PRs and SHAs, then `duplicates` exact re-sends of some of them."""
    unique = [signed_delivery(pull_request_payload(sha=f"{index:040x}", number=1000 + index),
                              secret=WEBHOOK_SECRET, delivery_id=f"delivery-{index}")
              for index in range(distinct)]
    return unique + [unique[index % distinct] for index in range(duplicates)]


async def post_all(base_url: str, deliveries: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(*(client.post("/webhooks/github", content=body, headers=headers)
                                           for body, headers in deliveries))
    return [response.status_code for response in responses]


async def _concurrent_deliveries_are_stored_once(serve, url: str, sessionmaker) -> None:
    service = serve(url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0")
    statuses = await post_all(service.base_url, build_deliveries(distinct=150, duplicates=50))
    assert set(statuses) <= {200, 202}, service.log()[-2000:]
    assert statuses.count(202) == 150
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 150
        assert await session.scalar(select(func.count()).select_from(Submission)) == 150
        assert await session.scalar(select(func.count()).select_from(Job)) == 150


async def test_service__200_concurrent_deliveries_with_duplicates_on_the_suite_database(
        serve, database_url, sessionmaker):
    await _concurrent_deliveries_are_stored_once(serve, database_url, sessionmaker)


@pytest.mark.postgres
async def test_service__200_concurrent_deliveries_with_duplicates_on_postgresql(
        serve, postgres_url, postgres_sessionmaker):
    await _concurrent_deliveries_are_stored_once(serve, postgres_url, postgres_sessionmaker)


async def test_service__logs_one_json_line_per_delivery_and_never_a_secret(serve, database_url, engine):
    secrets = {"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_TOKEN": "ghp_never_logged_token"}
    service = serve(database_url, GRADER_WORKERS="0", **secrets)
    deliveries = build_deliveries(distinct=3, duplicates=1)
    forged = (deliveries[0][0], {**deliveries[0][1], "x-hub-signature-256": "sha256=" + "0" * 64})
    await post_all(service.base_url, [*deliveries, forged])
    stop(service.process)
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    outcomes = sorted(line["outcome"] for line in lines if line["event"] == "delivery")
    assert outcomes == ["duplicate_delivery", "queued", "queued", "queued"]
    delivery = next(line for line in lines if line["event"] == "delivery")
    assert {"delivery_id", "repo", "pr", "sha", "job_id", "duration_ms"} <= set(delivery)
    [rejected] = [line for line in lines if line["event"] == "delivery rejected"]
    assert (rejected["status"], rejected["delivery_id"]) == (401, forged[1]["x-github-delivery"])
    for secret in secrets.values():
        assert secret not in service.log()


async def test_service__identical_deliveries_at_the_same_moment_make_one_job(serve, database_url, sessionmaker):
    service = serve(database_url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0")
    same = signed_delivery(pull_request_payload(sha="9" * 40), secret=WEBHOOK_SECRET, delivery_id="same-moment")
    statuses = await post_all(service.base_url, [same] * 20)
    assert sorted(statuses) == [200] * 19 + [202]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1


def test_service__streamed_body_over_the_cap_is_rejected_with_413(serve, database_url):
    service = serve(database_url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0")
    headers = signed_delivery(b"{}", secret=WEBHOOK_SECRET)[1]

    def chunks():
        for _ in range(26):
            yield b" " * (1024 * 1024)

    response = httpx.post(f"{service.base_url}/webhooks/github", content=chunks(), headers=headers, timeout=30)
    assert response.status_code == 413
    assert httpx.get(f"{service.base_url}/health").status_code == 200


async def job_states(sessionmaker) -> list[tuple[JobStatus, int]]:
    async with sessionmaker() as session:
        return [(job.status, job.attempt) for job in await session.scalars(select(Job))]


async def test_worker__killed_mid_job_is_taken_over_after_the_lease_with_exactly_one_result(
        serve, database_url, sessionmaker, tmp_path: Path):
    service = serve(database_url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0")
    body, headers = signed_delivery(pull_request_payload(sha="7" * 40), secret=WEBHOOK_SECRET)
    assert httpx.post(f"{service.base_url}/webhooks/github", content=body, headers=headers).status_code == 202

    lease = {"GRADER_LEASE_SECONDS": "2", "GRADER_HEARTBEAT_SECONDS": "0.5", "GRADER_POLL_SECONDS": "0.1",
             "GRADER_JOB_PROCESSOR": SLEEPY}
    doomed = spawn(["worker"], service_env(DATABASE_URL=database_url, GRADER_TEST_SLEEP="600", **lease),
                   tmp_path / "doomed.log")
    try:
        await eventually(lambda: _has_state(sessionmaker, (JobStatus.RUNNING, 1)))
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        stop(doomed)
    survivor = spawn(["worker"], service_env(DATABASE_URL=database_url, GRADER_TEST_SLEEP="0", **lease),
                     tmp_path / "survivor.log")
    try:
        await eventually(lambda: _has_state(sessionmaker, (JobStatus.DONE, 2)))
    finally:
        stop(survivor)
    async with sessionmaker() as session:
        results = (await session.scalars(select(Result))).all()
    assert [result.report["attempt"] for result in results] == [2]


async def _has_state(sessionmaker, state) -> bool:
    return state in await job_states(sessionmaker)


async def test_worker__sigterm_releases_the_running_job_and_exits(serve, database_url, sessionmaker, tmp_path):
    service = serve(database_url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GRADER_WORKERS="0")
    body, headers = signed_delivery(pull_request_payload(sha="6" * 40), secret=WEBHOOK_SECRET)
    httpx.post(f"{service.base_url}/webhooks/github", content=body, headers=headers)
    worker = spawn(["worker"], service_env(DATABASE_URL=database_url, GRADER_TEST_SLEEP="600",
                                           GRADER_JOB_PROCESSOR=SLEEPY, GRADER_POLL_SECONDS="0.1",
                                           GRADER_SHUTDOWN_GRACE_SECONDS="0.5"), tmp_path / "worker.log")
    try:
        await eventually(lambda: _has_state(sessionmaker, (JobStatus.RUNNING, 1)))
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    finally:
        stop(worker)
    assert await job_states(sessionmaker) == [(JobStatus.QUEUED, 1)]


def test_service__says_when_it_is_up_where_and_what_is_missing(serve, database_url):
    service = serve(database_url, GRADER_WORKERS="0")  # no webhook secret, no GitHub credentials

    lines = service.log().splitlines()
    [up] = [line for line in lines if " is up at " in line]
    assert up.endswith(f"is up at {service.base_url} (dashboard: {service.base_url}/dashboard)")
    assert any(line.startswith("  rubric: sqlalchemy-async v") for line in lines)
    assert "warning: GITHUB_WEBHOOK_SECRET is not set: every delivery is refused until it is" in lines
    assert any(line.startswith("warning: no GitHub credentials") for line in lines)
    assert not any("grader:grader@" in line for line in lines)
