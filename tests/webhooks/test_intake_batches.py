"""Several pushes stored in one transaction give each push the answer it would get alone."""

from __future__ import annotations

import asyncio

import msgspec
from sqlalchemy import select

from grader.db.models import Job, JobStatus, Submission
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.events import parse_pull_request
from grader.webhooks.intake import IntakeOutcome, Push, record_pushes
from tests.conftest import _clear_tables
from tests.support.statements import recorded_statements, verbs
from tests.support.webhooks import pull_request_payload


def push(delivery_id: str, sha: str, number: int = 1, action: str = "opened", updated_at: str | None = None) -> Push:
    payload = pull_request_payload(action, sha=sha, number=number, updated_at=updated_at)
    return Push(delivery_id, parse_pull_request(msgspec.json.encode(payload)))


async def job_statuses(sessionmaker) -> dict[str, JobStatus]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Submission.head_sha, Job.status).join(Job.submission))
    return {sha[:1]: status for sha, status in rows}


async def test_batch__duplicates_same_shas_and_newer_pushes_inside_one_transaction(sessionmaker):
    async with sessionmaker() as session, session.begin():
        [earlier] = await (await session.connection()).run_sync(record_pushes, [push("d0", "0" * 40)])
    batch = [
        push("d1", "1" * 40),               # newer push to PR 1: cancels d0's queued job
        push("d1", "1" * 40),               # the same delivery again
        push("d2", "1" * 40, action="synchronize"),  # same SHA, new delivery: no second job
        push("d3", "2" * 40),               # newer still: d1's job is cancelled at once
        push("d4", "3" * 40, number=2),     # another PR: its own job
    ]
    async with sessionmaker() as session, session.begin():
        results = await (await session.connection()).run_sync(record_pushes, batch)
    assert [r.outcome for r in results] == [IntakeOutcome.QUEUED, IntakeOutcome.DUPLICATE_DELIVERY,
                                             IntakeOutcome.DUPLICATE_SHA, IntakeOutcome.QUEUED,
                                             IntakeOutcome.QUEUED]
    assert results[2].submission_id == results[0].submission_id
    assert earlier.outcome is IntakeOutcome.QUEUED
    assert await job_statuses(sessionmaker) == {"0": JobStatus.CANCELLED, "1": JobStatus.CANCELLED,
                                                "2": JobStatus.QUEUED, "3": JobStatus.QUEUED}


async def test_batch__github_time_not_arrival_decides_the_head_inside_one_transaction(sessionmaker):
    batch = [push("e1", "5" * 40, updated_at="2026-03-02T10:05:00Z"),
             push("e2", "4" * 40, updated_at="2026-03-02T10:00:00Z")]  # older, delivered later
    async with sessionmaker() as session, session.begin():
        results = await (await session.connection()).run_sync(record_pushes, batch)
    assert [r.outcome for r in results] == [IntakeOutcome.QUEUED, IntakeOutcome.QUEUED]
    assert await job_statuses(sessionmaker) == {"5": JobStatus.QUEUED, "4": JobStatus.CANCELLED}


async def test_batcher__concurrent_stores_share_transactions_and_each_gets_its_answer(writer):
    batcher = IntakeBatcher(writer)
    pushes = [push(f"c{index}", f"{index:040x}", number=index + 1) for index in range(40)]
    results = await asyncio.gather(*(batcher.store(item) for item in [*pushes, *pushes[:10]]))
    outcomes = [result.outcome for result in results]
    assert outcomes.count(IntakeOutcome.QUEUED) == 40
    assert outcomes.count(IntakeOutcome.DUPLICATE_DELIVERY) == 10
    assert len({result.job_id for result in results[:40]}) == 40


async def test_batcher__a_known_repository_is_not_read_again_and_is_forgotten_after_a_failure(engine, writer):
    batcher = IntakeBatcher(writer)
    with recorded_statements() as statements:
        await batcher.store(push("r1", "1" * 40, number=1))
        first = [text for text in statements if "repositories" in text]
        statements.clear()
        await batcher.store(push("r2", "2" * 40, number=2))
        assert [text for text in statements if "repositories" in text] == []
        assert verbs(first) == ["SELECT", "INSERT INTO repositories"]  # read, then created: never read back
        await _clear_tables(engine)  # the cached row is gone: the delivery fails once, then reads it afresh
        statements.clear()
        result = await batcher.store(push("r3", "3" * 40, number=3))
    assert result.outcome is IntakeOutcome.QUEUED
    assert any("FROM repositories" in text for text in statements)
