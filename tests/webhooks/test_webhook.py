"""POST /webhooks/github through the ASGI app, on the suite's database."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.app import create_app
from grader.db.models import Delivery, Job, JobStatus, PullRequest, Repository, Submission
from grader.settings import DatabaseSettings, Settings
from tests.conftest import WEBHOOK_SECRET, make_settings, shipped_rubric
from tests.support.webhooks import example_payload, pull_request_payload, signed_delivery

URL = "/webhooks/github"


@pytest.fixture
async def client(settings: Settings, engine) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings, shipped_rubric())) as client:
        yield client


async def count_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as session:
        return {model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                for model in (Delivery, Repository, PullRequest, Submission, Job)}


async def post(client: AsyncTestClient, payload, event: str = "pull_request", **kwargs):
    body, headers = signed_delivery(payload, event, secret=WEBHOOK_SECRET, **kwargs)
    return await client.post(URL, content=body, headers=headers)


async def test_webhook__opened_pull_request_stores_delivery_submission_and_queued_job(client, sessionmaker):
    payload = example_payload("pull_request.opened.1")
    response = await post(client, payload)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    async with sessionmaker() as session:
        submission = await session.scalar(select(Submission))
        job = await session.scalar(select(Job))
    assert submission.head_sha == payload["pull_request"]["head"]["sha"]
    assert submission.author_login == payload["pull_request"]["user"]["login"]
    assert job.status is JobStatus.QUEUED
    assert job.submission_id == submission.id
    assert await count_rows(sessionmaker) == {"deliveries": 1, "repositories": 1, "pull_requests": 1,
                                              "submissions": 1, "jobs": 1}


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
async def test_webhook__each_grading_action_queues_a_job(client, sessionmaker, action):
    response = await post(client, example_payload(f"pull_request.{action}.1"))
    assert response.status_code == 202
    assert (await count_rows(sessionmaker))["jobs"] == 1


async def test_webhook__received_at_is_the_service_clock_not_the_commit_date(client, sessionmaker):
    payload = pull_request_payload(sha="a" * 40)
    payload["pull_request"]["created_at"] = "2001-01-01T00:00:00Z"
    await post(client, payload)
    async with sessionmaker() as session:
        submission = await session.scalar(select(Submission))
    assert submission.received_at.year >= 2024


async def test_webhook__duplicate_delivery_is_ignored(client, sessionmaker):
    payload = pull_request_payload(sha="b" * 40)
    first = await post(client, payload, delivery_id="dup-1")
    second = await post(client, payload, delivery_id="dup-1")
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["status"] == "duplicate_delivery"
    assert await count_rows(sessionmaker) == {"deliveries": 1, "repositories": 1, "pull_requests": 1,
                                              "submissions": 1, "jobs": 1}


async def test_webhook__same_head_sha_under_a_new_delivery_makes_no_second_job(client, sessionmaker):
    payload = pull_request_payload(sha="c" * 40)
    await post(client, payload)
    reopened = pull_request_payload("reopened", sha="c" * 40)
    reopened["repository"] = payload["repository"]
    reopened["pull_request"]["number"] = payload["pull_request"]["number"]
    response = await post(client, reopened)
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate_sha"
    rows = await count_rows(sessionmaker)
    assert (rows["deliveries"], rows["submissions"], rows["jobs"]) == (2, 1, 1)


async def test_webhook__push_of_a_sha_known_only_from_a_workflow_report_is_graded(client, sessionmaker):
    await post(client, pull_request_payload(sha="8" * 40, number=3))
    async with sessionmaker() as session, session.begin():  # as if the submission came from a workflow report
        await session.execute(delete(Job))
    response = await post(client, pull_request_payload("synchronize", sha="8" * 40, number=3))
    assert response.status_code == 202
    assert (await count_rows(sessionmaker))["jobs"] == 1


async def test_webhook__newer_push_cancels_the_older_queued_job(client, sessionmaker):
    await post(client, pull_request_payload(sha="1" * 40, number=7))
    newer = await post(client, pull_request_payload("synchronize", sha="2" * 40, number=7))
    other_pr = await post(client, pull_request_payload(sha="3" * 40, number=8))
    assert (newer.status_code, other_pr.status_code) == (202, 202)
    async with sessionmaker() as session:
        jobs = {job.submission.head_sha[0]: job.status for job in
                (await session.scalars(select(Job).join(Submission).options())).unique()
                for _ in [await job.awaitable_attrs.submission]}
    assert jobs == {"1": JobStatus.CANCELLED, "2": JobStatus.QUEUED, "3": JobStatus.QUEUED}


async def _jobs_by_sha(sessionmaker) -> list[tuple[str, JobStatus]]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Submission.head_sha, Job.status).join(Job.submission).order_by(Job.id))
    return [(sha[0], status) for sha, status in rows]


async def _head(sessionmaker, number: int) -> str:
    async with sessionmaker() as session:
        return (await session.scalar(select(PullRequest.latest_head_sha).where(PullRequest.number == number)))[0]


async def test_webhook__a_newer_push_delivered_first_stays_the_head_and_is_graded(client, sessionmaker):
    await post(client, pull_request_payload("synchronize", sha="b" * 40, number=9, updated_at="2026-03-02T10:05:00Z"))
    late = await post(client, pull_request_payload("synchronize", sha="a" * 40, number=9,
                                                   updated_at="2026-03-02T10:00:00Z"))
    assert late.status_code == 202
    assert await _jobs_by_sha(sessionmaker) == [("b", JobStatus.QUEUED), ("a", JobStatus.CANCELLED)]
    assert await _head(sessionmaker, 9) == "b"


async def test_webhook__a_force_push_back_to_an_earlier_sha_is_graded_again(client, sessionmaker):
    await post(client, pull_request_payload(sha="a" * 40, number=10, updated_at="2026-03-02T10:00:00Z"))
    async with sessionmaker() as session, session.begin():  # A was graded
        await session.execute(update(Job).values(status=JobStatus.DONE))
    await post(client, pull_request_payload("synchronize", sha="b" * 40, number=10, updated_at="2026-03-02T10:05:00Z"))
    back = await post(client, pull_request_payload("synchronize", sha="a" * 40, number=10,
                                                   updated_at="2026-03-02T10:09:00Z"))
    assert back.status_code == 202
    assert back.json()["status"] == "queued"
    assert await _jobs_by_sha(sessionmaker) == [("a", JobStatus.DONE), ("b", JobStatus.CANCELLED),
                                                ("a", JobStatus.QUEUED)]
    assert await _head(sessionmaker, 10) == "a"


async def test_webhook__a_late_redelivery_of_the_head_while_it_is_graded_adds_nothing(client, sessionmaker):
    await post(client, pull_request_payload(sha="c" * 40, number=11, updated_at="2026-03-02T10:00:00Z"))
    again = await post(client, pull_request_payload("reopened", sha="c" * 40, number=11,
                                                    updated_at="2026-03-02T10:07:00Z"))
    assert again.json()["status"] == "duplicate_sha"
    assert await _jobs_by_sha(sessionmaker) == [("c", JobStatus.QUEUED)]


async def test_webhook__reopening_a_pull_request_whose_head_was_graded_grades_nothing_again(client, sessionmaker):
    await post(client, pull_request_payload(sha="d" * 40, number=12, updated_at="2026-03-02T10:00:00Z"))
    async with sessionmaker() as session, session.begin():  # D was graded
        await session.execute(update(Job).values(status=JobStatus.DONE))
    reopened = await post(client, pull_request_payload("reopened", sha="d" * 40, number=12,
                                                       updated_at="2026-03-02T11:00:00Z"))
    assert reopened.json()["status"] == "duplicate_sha"  # a newer time, the same head: it did not move
    assert await _jobs_by_sha(sessionmaker) == [("d", JobStatus.DONE)]


async def test_webhook__renamed_repository_keeps_its_row_and_takes_the_new_name(client, sessionmaker):
    await post(client, pull_request_payload(sha="4" * 40, repo_id=77))
    renamed = pull_request_payload("synchronize", sha="5" * 40, repo_id=77)
    renamed["repository"]["full_name"] = "course/renamed"
    assert (await post(client, renamed)).status_code == 202
    async with sessionmaker() as session:
        repositories = (await session.scalars(select(Repository))).all()
    assert [(repo.github_id, repo.full_name) for repo in repositories] == [(77, "course/renamed")]


@pytest.mark.parametrize(
    ("event", "payload_name"),
    [("ping", "ping.1"), ("push", "push.1"), ("pull_request", "pull_request.closed.1"),
     ("pull_request", "pull_request.labeled.1"), ("issues", "ping.2")],
)
async def test_webhook__other_events_and_actions_are_acknowledged_and_store_nothing(
        client, sessionmaker, event, payload_name):
    response = await post(client, example_payload(payload_name), event)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert set((await count_rows(sessionmaker)).values()) == {0}


def _signed(body: bytes) -> dict[str, str]:
    return signed_delivery(body, secret=WEBHOOK_SECRET)[1]


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


def _bad_requests() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    good = json.dumps(example_payload("pull_request.opened.1")).encode()
    headers = _signed(good)
    without = _without(headers, "x-hub-signature-256")
    return [
        ("no signature", good, without, 401, "missing"),
        ("sha1 only", good, {**without, "x-hub-signature": "sha1=0123"}, 401, "SHA-1"),
        ("bad signature", good, {**headers, "x-hub-signature-256": "sha256=" + "0" * 64}, 401, "does not match"),
        ("other secret", good, signed_delivery(good, secret="wrong")[1], 401, "does not match"),
        ("not json", b"{not json", _signed(b"{not json"), 400, "JSON"),
        ("json array", b"[1, 2]", _signed(b"[1, 2]"), 400, "JSON object"),
        ("pr without head", b'{"action": "opened", "pull_request": {"number": 1}}',
         _signed(b'{"action": "opened", "pull_request": {"number": 1}}'), 400, "not valid"),
        ("no delivery id", good, _without(headers, "x-github-delivery"), 400, "X-GitHub-Delivery"),
        ("no event", good, _without(headers, "x-github-event"), 400, "X-GitHub-Event"),
    ]


@pytest.mark.parametrize(("case", "body", "headers", "status", "reason"), _bad_requests(),
                         ids=[case[0] for case in _bad_requests()])
async def test_webhook__bad_input_gets_a_one_line_json_error_and_writes_nothing(
        client, sessionmaker, case, body, headers, status, reason):
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert reason in error
    assert "\n" not in error
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook__body_over_githubs_25mb_cap_is_413_before_reading_it(client, sessionmaker):
    headers = {**_signed(b"{}"), "content-length": str(25 * 1024 * 1024 + 1)}
    response = await client.post(URL, content=b"{}", headers=headers)
    assert response.status_code == 413
    assert "larger" in response.json()["error"]
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook__database_down_is_503_never_2xx(tmp_path):
    unreachable = f"sqlite+aiosqlite:///{tmp_path}/missing-dir/grader.db"
    settings = make_settings(unreachable, database=DatabaseSettings(url=unreachable, retry_attempts=1))
    async with AsyncTestClient(app=create_app(settings, shipped_rubric())) as client:
        response = await post(client, pull_request_payload(sha="d" * 40))
        ready = await client.get("/ready")
        health = await client.get("/health")
    assert response.status_code == 503
    assert "database" in response.json()["error"].lower()
    assert ready.status_code == 503
    assert health.status_code == 200


async def test_webhook__without_a_configured_secret_nothing_is_accepted(database_url, engine, sessionmaker):
    settings = make_settings(database_url)
    settings = Settings(**{**settings.__dict__, "webhook": type(settings.webhook)(secret="")})
    async with AsyncTestClient(app=create_app(settings, shipped_rubric())) as client:
        response = await post(client, pull_request_payload(sha="e" * 40))
    assert response.status_code == 503
    assert "GITHUB_WEBHOOK_SECRET" in response.json()["error"]
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook__githubs_default_form_encoded_delivery_is_accepted(client, sessionmaker):
    payload = example_payload("pull_request.opened.1")
    form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    _, headers = signed_delivery(form, secret=WEBHOOK_SECRET)
    headers["content-type"] = "application/x-www-form-urlencoded"

    response = await client.post(URL, content=form, headers=headers)

    assert response.status_code == 202
    async with sessionmaker() as session:
        assert await session.scalar(select(Submission.head_sha)) == payload["pull_request"]["head"]["sha"]


@pytest.mark.parametrize("form", [b"other=1", b"payload=1&payload=2", b"%zz"])
async def test_webhook__a_form_without_one_payload_field_is_a_400_saying_the_fix(client, sessionmaker, form):
    _, headers = signed_delivery(form, secret=WEBHOOK_SECRET)
    headers["content-type"] = "application/x-www-form-urlencoded"

    response = await client.post(URL, content=form, headers=headers)

    assert response.status_code == 400
    assert "set the webhook's content type to application/json" in response.json()["error"]
    assert set((await count_rows(sessionmaker)).values()) == {0}


async def test_webhook__a_rejected_delivery_is_logged_with_its_reason_never_its_body(
        client, caplog: pytest.LogCaptureFixture):
    body, headers = signed_delivery(pull_request_payload(sha="e" * 40), secret="not-our-secret")
    with caplog.at_level(logging.WARNING, logger="grader.webhooks"):
        response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 401
    [record] = [r for r in caplog.records if r.getMessage() == "delivery rejected"]
    assert (record.status, record.delivery_id, record.github_event) == (401, headers["x-github-delivery"],
                                                                       "pull_request")
    assert "signature" in record.reason.lower()
    assert "e" * 40 not in str(record.__dict__)
