"""Which job is claimed first (publish, then new pushes, then regrades), postponing without using an
attempt, and idle workers woken by a newly queued job rather than by their poll."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from grader.db.engine import make_engine, make_sessionmaker
from grader.db.models import Job, JobKind, JobPriority, JobStatus, PullRequest, Repository, Submission
from grader.queue import jobs
from grader.queue.enqueue import enqueue_publish, enqueue_regrade
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


async def test_worker__on_postgresql_a_job_queued_by_another_process_wakes_it(postgres_sessionmaker, postgres_url):
    [submission_id] = await _submissions(postgres_sessionmaker, 1)
    other_engine = make_engine(DatabaseSettings(url=postgres_url))  # another process' engine: no shared bell

    async def enqueue() -> int:
        try:
            async with make_sessionmaker(other_engine)() as session, session.begin():
                job, _ = await enqueue_regrade(session, submission_id)
            return job.id
        finally:
            await other_engine.dispose()

    async def with_listener() -> Job:
        from grader.queue.wakeup import listen_for_jobs
        async with listen_for_jobs(postgres_sessionmaker.kw["bind"]):
            return await _claimed_by_idle_worker(postgres_sessionmaker, enqueue)

    job = await with_listener()
    assert job.status is JobStatus.DONE


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
