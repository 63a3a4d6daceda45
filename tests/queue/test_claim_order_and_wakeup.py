"""Which job is claimed first (publish, then new pushes, then regrades), postponing without using an
attempt, and idle workers woken by a newly queued job rather than by their poll."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text, update

from grader.db.engine import make_engine, make_sessionmaker
from grader.db.models import Job, JobKind, JobPriority, JobStatus, PullRequest, Repository, Submission
from grader.queue import jobs
from grader.queue.enqueue import enqueue_publish, enqueue_regrade
from grader.queue.wakeup import listen_for_jobs
from grader.queue.worker import Worker
from grader.settings import DatabaseSettings, QueueSettings
from tests.conftest import make_settings
from tests.queue.test_queue import QUEUE, claim, in_tx, job_row
from tests.support.polling import eventually

SLOW_POLL = QueueSettings(poll_seconds=60.0)


async def _submissions(sessionmaker, count: int) -> list[int]:
    async with sessionmaker() as session, session.begin():
        pr = PullRequest(repository=Repository(github_id=1, full_name="course/repo"), number=1,
                         author_login="student", latest_head_sha="f" * 40)
        rows = [Submission(pull_request=pr, head_sha=f"{index:040d}", author_login="student") for index in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_claim__publish_before_grading_before_regrade_whatever_the_age(sessionmaker):
    regraded, pushed, published = await _submissions(sessionmaker, 3)
    async with sessionmaker() as session, session.begin():  # oldest first: the regrade, then the push
        await enqueue_regrade(session, regraded)
        session.add(Job(submission_id=pushed, kind=JobKind.GRADE, priority=JobPriority.PUSH))
        await session.flush()
        enqueue_publish(session, published)
    claimed = [(await claim(sessionmaker, f"w{n}")).submission_id for n in range(3)]
    assert claimed == [published, pushed, regraded]


async def test_postpone__queues_again_later_without_using_an_attempt(sessionmaker):
    [submission_id] = await _submissions(sessionmaker, 1)
    async with sessionmaker() as session, session.begin():
        enqueue_publish(session, submission_id)
    first = await claim(sessionmaker)
    assert await in_tx(sessionmaker, lambda s: jobs.postpone(s, first, 0.0, "content-creation limit"))
    row = await job_row(sessionmaker, first.id)
    assert (row.status, row.attempt, row.last_error) == (JobStatus.QUEUED, 0, "content-creation limit")
    again = await eventually(lambda: claim(sessionmaker), what="the postponed job claimed again")
    assert again.attempt == 1


async def _claimed_by_idle_worker(sessionmaker, enqueue) -> Job:
    """Start a worker that polls once a minute, let it go idle, queue a job with `enqueue`, and return the
    job once the worker has claimed it."""
    seen: list[int] = []

    async def processor(job) -> None:
        seen.append(job.id)

    stop = asyncio.Event()
    worker = Worker(sessionmaker, make_settings(queue=SLOW_POLL), processor)
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.3)  # the worker found nothing and is idle
        job_id = await enqueue()
        async def claimed() -> bool:
            return job_id in seen

        await eventually(claimed, timeout=5, what="the idle worker claiming the new job")
        return await job_row(sessionmaker, job_id)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_worker__an_enqueue_in_the_same_process_wakes_it_before_its_poll(sessionmaker):
    [submission_id] = await _submissions(sessionmaker, 1)

    async def enqueue() -> int:
        async with sessionmaker() as session, session.begin():
            job, _ = await enqueue_regrade(session, submission_id)
        return job.id

    job = await _claimed_by_idle_worker(sessionmaker, enqueue)
    assert job.status is JobStatus.DONE


async def test_worker__a_rolled_back_enqueue_wakes_nobody_and_queues_nothing(sessionmaker):
    [submission_id] = await _submissions(sessionmaker, 1)
    worker = Worker(sessionmaker, make_settings(queue=SLOW_POLL), lambda job: asyncio.sleep(0))
    async with sessionmaker() as session, session.begin():
        await enqueue_regrade(session, submission_id)
        await session.rollback()
    assert not await worker.bell.wait(0.05)


async def _enqueue_in_another_process(postgres_url: str, submission_id: int) -> int:
    """A regrade queued through an engine of its own, as another process would: no shared bell."""
    other_engine = make_engine(DatabaseSettings(url=postgres_url))
    try:
        async with make_sessionmaker(other_engine)() as session, session.begin():
            job, _ = await enqueue_regrade(session, submission_id)
        return job.id
    finally:
        await other_engine.dispose()


async def test_worker__on_postgresql_a_job_queued_by_another_process_wakes_it(postgres_sessionmaker, postgres_url):
    [submission_id] = await _submissions(postgres_sessionmaker, 1)

    async def enqueue() -> int:
        return await _enqueue_in_another_process(postgres_url, submission_id)

    async def with_listener() -> Job:
        async with listen_for_jobs(postgres_sessionmaker.kw["bind"]):
            return await _claimed_by_idle_worker(postgres_sessionmaker, enqueue)

    job = await with_listener()
    assert job.status is JobStatus.DONE


async def _listening_backends(engine) -> set[int]:
    """The PostgreSQL backends of this database that sit in LISTEN (the listener's connection)."""
    async with engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'idle' AND query ILIKE 'LISTEN%'"))
        return {row.pid for row in rows}


async def test_worker__on_postgresql_a_terminated_listener_connects_again_and_still_wakes_it(
        postgres_sessionmaker, postgres_url, caplog):
    [submission_id] = await _submissions(postgres_sessionmaker, 1)
    engine = postgres_sessionmaker.kw["bind"]

    async def enqueue_elsewhere() -> int:
        return await _enqueue_in_another_process(postgres_url, submission_id)

    with caplog.at_level(logging.INFO, logger="grader.worker"):
        async with listen_for_jobs(engine):
            first = await eventually(lambda: _listening_backends(engine), what="the listener listening")
            async with engine.connect() as connection:  # what a PostgreSQL restart or an idle-killer does
                for pid in first:
                    await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            async def listening_again() -> set[int]:
                return (await _listening_backends(engine)) - first

            await eventually(listening_again, timeout=5, what="the listener listening on a new connection")
            job = await _claimed_by_idle_worker(postgres_sessionmaker, enqueue_elsewhere)  # polls once a minute
    assert job.status is JobStatus.DONE
    messages = [record.getMessage() for record in caplog.records if record.name == "grader.worker"]
    assert messages.count("the connection listening for new jobs was lost; connecting again") == 1
    assert "listening for new jobs again" in messages


async def test_worker__a_listener_that_cannot_connect_keeps_trying_quietly(caplog):
    engine = make_engine(DatabaseSettings(url="postgresql+asyncpg://grader:grader@127.0.0.1:9/nowhere"))
    try:
        with caplog.at_level(logging.INFO, logger="grader.worker"):
            async with listen_for_jobs(engine, first_retry_seconds=0.01, max_retry_seconds=0.02):
                await asyncio.sleep(0.3)  # some ten attempts
    finally:
        await engine.dispose()
    assert [record.getMessage() for record in caplog.records if record.name == "grader.worker"] == [
        "listening for new jobs failed; polling until it works again"]


async def test_claim__priority_survives_requeue(sessionmaker):
    """A publish job postponed and due again still goes before a grading queued meanwhile."""
    publish_sub, grade_sub = await _submissions(sessionmaker, 2)
    async with sessionmaker() as session, session.begin():
        enqueue_publish(session, publish_sub)
    first = await claim(sessionmaker)
    await in_tx(sessionmaker, lambda s: jobs.postpone(s, first, 0.0, "wait"))
    async with sessionmaker() as session, session.begin():
        session.add(Job(submission_id=grade_sub, kind=JobKind.GRADE))
        await session.execute(update(Job).where(Job.id == first.id).values(run_after=Job.created_at))
    assert (await claim(sessionmaker, "w2", QUEUE)).kind is JobKind.PUBLISH
