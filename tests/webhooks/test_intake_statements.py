"""What a delivery costs the database: the statements of its transaction, counted so they cannot creep
back up. A push to a known repository is five statements between BEGIN and COMMIT however many
deliveries share the transaction."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from grader.db.writer import TransactionWriter
from grader.settings import DatabaseSettings
from grader.webhooks.batcher import IntakeBatcher
from grader.webhooks.events import parse_pull_request
from grader.webhooks.intake import IntakeOutcome, IntakeResult, Push
from tests.support.statements import recorded_statements, verbs
from tests.support.webhooks import pull_request_payload

NEW_PUSH = ["INSERT INTO deliveries", "INSERT INTO pull_requests", "INSERT INTO submissions", "UPDATE jobs",
            "INSERT INTO jobs"]


def push(delivery_id: str, sha: str, number: int = 1, action: str = "opened") -> Push:
    """A push to one repository (the examples of other actions come from other repositories)."""
    payload = pull_request_payload(sha=sha * 40 if len(sha) == 1 else sha, number=number) | {"action": action}
    return Push(delivery_id, parse_pull_request(msgspec.json.encode(payload)))


@pytest.fixture
async def intake(each_database):
    writer = TransactionWriter(each_database.sessionmaker.kw["bind"], DatabaseSettings(url=each_database.url))
    try:
        batcher = IntakeBatcher(writer)
        assert (await batcher.store(push("warm", "0"))).outcome is IntakeOutcome.QUEUED  # the repository is known
        yield batcher
    finally:
        await writer.close()


async def _sent(intake: IntakeBatcher, *pushes: Push) -> tuple[list[IntakeResult], list[str]]:
    """The results of storing `pushes` at once, and the statements of the transaction (BEGIN left out:
    on PostgreSQL the driver sends it without a cursor)."""
    with recorded_statements() as statements:
        results = await asyncio.gather(*(intake.store(item) for item in pushes))
    return list(results), [verb for verb in verbs(statements) if verb != "BEGIN"]


async def test_intake__a_new_push_costs_five_statements_and_reads_nothing_back(intake):
    [first], first_statements = await _sent(intake, push("a", "a", number=2))
    [newer], newer_statements = await _sent(intake, push("b", "b", number=2, action="synchronize"))
    assert (first.outcome, newer.outcome, newer.cancelled_jobs) == (IntakeOutcome.QUEUED, IntakeOutcome.QUEUED, 1)
    assert first_statements == newer_statements == NEW_PUSH


async def test_intake__a_batch_costs_the_statements_of_one_push(intake):
    results, statements = await _sent(intake, *(push(f"n{index}", f"{index:040x}", number=10 + index)
                                                for index in range(20)))
    assert [result.outcome for result in results] == [IntakeOutcome.QUEUED] * 20
    assert statements == NEW_PUSH


async def test_intake__a_repeated_delivery_costs_one_statement(intake):
    await _sent(intake, push("r", "c", number=3))
    [again], statements = await _sent(intake, push("r", "c", number=3))
    assert again.outcome is IntakeOutcome.DUPLICATE_DELIVERY
    assert statements == ["INSERT INTO deliveries"]


async def test_intake__a_known_sha_reads_its_submission_and_jobs_and_queues_nothing(intake):
    await _sent(intake, push("s1", "d", number=4))
    [reopened], statements = await _sent(intake, push("s2", "d", number=4, action="reopened"))
    assert reopened.outcome is IntakeOutcome.DUPLICATE_SHA
    assert statements == ["INSERT INTO deliveries", "INSERT INTO pull_requests", "INSERT INTO submissions",
                          "SELECT", "SELECT"]


async def test_intake__a_delivery_reaching_the_intake_turns_later_joins_the_same_transaction(intake):
    async def later(item: Push, turns: int) -> IntakeResult:
        for _ in range(turns):  # its request still being read when the first one reached the intake
            await asyncio.sleep(0)
        return await intake.store(item)

    with recorded_statements() as statements:
        results = await asyncio.gather(intake.store(push("t1", "e", number=30)), later(push("t2", "f", number=31), 2))
    assert [result.outcome for result in results] == [IntakeOutcome.QUEUED] * 2
    assert [verb for verb in verbs(statements) if verb != "BEGIN"] == NEW_PUSH
