"""With a course file: a push is stored under the assignment its repository matches, stamped with the
service's receipt time; a repository no assignment claims is acknowledged and ignored, with the reason logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.app import create_app
from grader.db.models import Delivery, Job, Submission, utcnow
from grader.settings import Settings
from tests.conftest import WEBHOOK_SECRET, course_rubrics, make_settings, sample_course
from tests.support.webhooks import pull_request_payload, signed_delivery


@pytest.fixture
async def client(database_url: str, engine) -> AsyncIterator[AsyncTestClient]:
    settings: Settings = make_settings(database_url, course=sample_course())
    async with AsyncTestClient(app=create_app(settings, course_rubrics())) as client:
        yield client


def payload_for(repository: str, sha: str) -> dict:
    payload = pull_request_payload("opened", sha=sha)
    payload["repository"]["full_name"] = repository
    # A commit date a student can set: it must not decide anything.
    payload["pull_request"]["head"]["repo"] = {"pushed_at": "2000-01-01T00:00:00Z"}
    return payload


async def deliver(client: AsyncTestClient, payload: dict):
    body, headers = signed_delivery(payload, secret=WEBHOOK_SECRET)
    return await client.post("/webhooks/github", content=body, headers=headers)


async def test_webhook__push_is_stored_under_its_assignment_at_the_receipt_time(
        client: AsyncTestClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    before = utcnow()
    response = await deliver(client, payload_for("Course-Org/extra-hw2", "a" * 40))
    assert response.status_code == 202
    async with sessionmaker() as session:
        submission = await session.scalar(select(Submission))
    assert submission.assignment_id == "hw2"
    assert before <= submission.received_at <= utcnow()
    assert submission.received_at - before < timedelta(seconds=5)


async def test_webhook__repository_of_no_assignment_is_acknowledged_and_ignored_with_the_reason(
        client: AsyncTestClient, sessionmaker: async_sessionmaker[AsyncSession],
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="grader.webhooks"):
        response = await deliver(client, payload_for("course-org/hw9-alice", "b" * 40))
    assert response.status_code == 200
    assert response.json()["status"] == "no_assignment"
    reasons = [getattr(record, "reason", "") for record in caplog.records]
    assert "course-org/hw9-alice matches no assignment of course db-course-2026" in reasons
    async with sessionmaker() as session:
        counts = [await session.scalar(select(func.count()).select_from(model))
                  for model in (Delivery, Submission, Job)]
    assert counts == [0, 0, 0]
