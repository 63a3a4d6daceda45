"""The job queue's claim, lease, fence, retry and release, on the suite's database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from grader.db.models import Job, JobKind, JobPriority, JobStatus, PullRequest, Repository, Result, Submission, utcnow
from grader.queue import jobs
from grader.queue.enqueue import enqueue_regrades
from grader.queue.jobs import JobOutput
from grader.queue.worker import Worker
from grader.settings import QueueSettings
from tests.conftest import make_settings
from tests.support.polling import eventually

QUEUE = QueueSettings(lease_seconds=30, max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.02)
OUTPUT = JobOutput(score=91.0, grade="S", report={"checks": []}, duration_seconds=1.5)


async def add_jobs(sessionmaker, count: int = 1) -> list[int]:
    async with sessionmaker() as session, session.begin():
        repo = Repository(github_id=1, full_name="course/repo")
        pr = PullRequest(repository=repo, number=1, author_login="student", latest_head_sha="f" * 40)
        created = []
        for index in range(count):
            submission = Submission(pull_request=pr, head_sha=f"{index:040d}", author_login="student")
            job = Job(submission=submission)
            session.add(job)
            created.append(job)
        await session.flush()
        return [job.id for job in created]


async def claim(sessionmaker, worker: str = "w1", queue: QueueSettings = QUEUE):
    async with sessionmaker() as session, session.begin():
        return await jobs.claim_next(session, worker, queue)


async def in_tx(sessionmaker, step):
    async with sessionmaker() as session, session.begin():
        return await step(session)


async def job_row(sessionmaker, job_id: int) -> Job:
    async with sessionmaker() as session:
        return await session.get(Job, job_id)


async def settled(sessionmaker, job_ids: list[int], statuses: tuple[JobStatus, ...]) -> list[Job] | None:
    """The jobs' rows once every one is in one of `statuses`, else None."""
    rows = [await job_row(sessionmaker, job_id) for job_id in job_ids]
    return rows if all(row.status in statuses for row in rows) else None


async def test_queue__claims_oldest_first_and_nothing_when_empty(sessionmaker):
    first, second = await add_jobs(sessionmaker, 2)
    claimed = await claim(sessionmaker)
    assert (claimed.id, claimed.attempt) == (first, 1)
    assert (await claim(sessionmaker)).id == second
    assert await claim(sessionmaker) is None
    row = await job_row(sessionmaker, first)
    assert row.status is JobStatus.RUNNING
    assert row.lease_owner == "w1"


async def test_queue__complete_stores_exactly_one_result(sessionmaker):
    await add_jobs(sessionmaker)
    claimed = await claim(sessionmaker)
    assert await in_tx(sessionmaker, lambda s: jobs.complete(s, claimed, OUTPUT))
    assert not await in_tx(sessionmaker, lambda s: jobs.complete(s, claimed, OUTPUT))
    async with sessionmaker() as session:
        results = (await session.scalars(select(Result))).all()
    assert [(r.job_id, r.score, r.grade) for r in results] == [(claimed.id, 91.0, "S")]
    assert (await job_row(sessionmaker, claimed.id)).status is JobStatus.DONE


async def test_queue__expired_lease_is_claimed_again_and_fences_out_the_stale_worker(sessionmaker):
    await add_jobs(sessionmaker)
    stale = await claim(sessionmaker, "dead-worker")
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    fresh = await claim(sessionmaker, "live-worker")
    assert (fresh.id, fresh.attempt) == (stale.id, 2)
    assert not await in_tx(sessionmaker, lambda s: jobs.heartbeat(s, stale, QUEUE))
    assert not await in_tx(sessionmaker, lambda s: jobs.complete(s, stale, OUTPUT))
    assert await in_tx(sessionmaker, lambda s: jobs.heartbeat(s, fresh, QUEUE))
    assert await in_tx(sessionmaker, lambda s: jobs.complete(s, fresh, OUTPUT))
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Result)) == 1


async def test_queue__live_lease_is_not_claimed_twice(sessionmaker):
    await add_jobs(sessionmaker)
    assert await claim(sessionmaker, "a") is not None
    assert await claim(sessionmaker, "b") is None


async def test_queue__infrastructure_failure_retries_with_backoff_then_fails_with_reason(sessionmaker):
    [job_id] = await add_jobs(sessionmaker)
    statuses = []
    for _ in range(QUEUE.max_attempts):
        claimed = await eventually(lambda: claim(sessionmaker), what="a claim after the backoff")
        statuses.append(await in_tx(sessionmaker, lambda s, c=claimed: jobs.fail_or_retry(s, c, "docker down", QUEUE)))
    assert statuses == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.FAILED]
    row = await job_row(sessionmaker, job_id)
    assert row.status is JobStatus.FAILED
    assert row.attempt == 3
    assert row.last_error == "gave up after 3 attempts: docker down"


async def test_queue__backoff_delays_the_next_claim(sessionmaker):
    await add_jobs(sessionmaker)
    slow = QueueSettings(retry_base_seconds=60, retry_max_seconds=120, max_attempts=5)
    claimed = await claim(sessionmaker, queue=slow)
    await in_tx(sessionmaker, lambda s: jobs.fail_or_retry(s, claimed, "boom", slow))
    assert await claim(sessionmaker, queue=slow) is None
    row = await job_row(sessionmaker, claimed.id)
    assert timedelta(seconds=29) < row.run_after - utcnow() <= timedelta(seconds=60)


async def test_queue__job_lost_on_every_attempt_ends_failed(sessionmaker):
    [job_id] = await add_jobs(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Job).values(status=JobStatus.RUNNING, attempt=QUEUE.max_attempts,
                                                 lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert await claim(sessionmaker) is None
    row = await job_row(sessionmaker, job_id)
    assert row.status is JobStatus.FAILED
    assert "lost" in row.last_error


async def test_queue__release_makes_the_job_claimable_at_once(sessionmaker):
    await add_jobs(sessionmaker)
    claimed = await claim(sessionmaker, "stopping")
    assert await in_tx(sessionmaker, lambda s: jobs.release(s, claimed))
    again = await claim(sessionmaker, "other")
    assert (again.id, again.attempt) == (claimed.id, 2)


async def test_worker__runs_queued_jobs_to_done_and_retries_a_broken_processor(sessionmaker, database_url):
    ok_id, broken_id = await add_jobs(sessionmaker, 2)

    async def processor(job):
        if job.id == broken_id:
            raise ConnectionError("docker daemon unreachable")
        return OUTPUT

    settings = make_settings(database_url, queue=QueueSettings(poll_seconds=0.01, max_attempts=2,
                                                               retry_base_seconds=0.01, retry_max_seconds=0.01))
    stop = asyncio.Event()
    worker = Worker(sessionmaker, settings, processor)
    task = asyncio.create_task(worker.run(stop))
    rows = await eventually(lambda: settled(sessionmaker, [ok_id, broken_id], (JobStatus.DONE, JobStatus.FAILED)),
                            what="both jobs ending")
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [row.status for row in rows] == [JobStatus.DONE, JobStatus.FAILED]
    assert rows[1].last_error == "gave up after 2 attempts: ConnectionError: docker daemon unreachable"


async def test_worker__stop_releases_a_job_that_outlives_the_grace_period(sessionmaker, database_url):
    [job_id] = await add_jobs(sessionmaker)
    started = asyncio.Event()

    async def endless(job):
        started.set()
        await asyncio.sleep(3600)

    settings = make_settings(database_url, queue=QueueSettings(poll_seconds=0.01, shutdown_grace_seconds=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(sessionmaker, settings, endless).run(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    row = await job_row(sessionmaker, job_id)
    assert (row.status, row.lease_owner, row.attempt) == (JobStatus.QUEUED, None, 1)


async def test_worker__lost_lease_cancels_the_work_and_writes_nothing(sessionmaker, database_url):
    [job_id] = await add_jobs(sessionmaker)
    cancelled = asyncio.Event()

    async def slow(job):
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    settings = make_settings(database_url, queue=QueueSettings(poll_seconds=0.01, heartbeat_seconds=0.05,
                                                               lease_seconds=30))
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(sessionmaker, settings, slow).run(stop))
    await eventually(lambda: settled(sessionmaker, [job_id], (JobStatus.RUNNING,)), what="the job running")
    async with sessionmaker() as session, session.begin():  # another worker took the job over
        await session.execute(update(Job).values(attempt=Job.attempt + 1))
    await asyncio.wait_for(cancelled.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Result)) == 0


@pytest.mark.postgres
async def test_queue__skip_locked_lets_concurrent_claimers_take_different_jobs(postgres_sessionmaker):
    await add_jobs(postgres_sessionmaker, 20)
    claimed = await asyncio.gather(*(claim(postgres_sessionmaker, f"w{i}") for i in range(20)))
    ids = [job.id for job in claimed if job is not None]
    assert len(ids) == len(set(ids)) == 20


async def test_worker__database_failure_while_storing_keeps_the_worker_alive(sessionmaker, database_url, monkeypatch):
    first, second = await add_jobs(sessionmaker, 2)
    failures = iter([True])

    async def flaky_complete(session, job, output):
        if next(failures, False):
            raise ConnectionRefusedError("database went away")
        return await real_complete(session, job, output)

    real_complete = jobs.complete
    monkeypatch.setattr(jobs, "complete", flaky_complete)

    async def processor(job):
        return OUTPUT

    settings = make_settings(database_url, queue=QueueSettings(poll_seconds=0.01, lease_seconds=0.3,
                                                               heartbeat_seconds=0.1))
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(sessionmaker, settings, processor).run(stop))
    rows = await eventually(lambda: settled(sessionmaker, [first, second], (JobStatus.DONE,)),
                            what="both jobs done")
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [row.status for row in rows] == [JobStatus.DONE, JobStatus.DONE]
    assert rows[0].attempt == 2  # its first outcome was lost with the database; the lease ran out


async def test_queue__new_pushes_are_claimed_before_older_regrades(sessionmaker):
    [push_job, *others] = await add_jobs(sessionmaker, 3)
    regraded = [await job_row(sessionmaker, job_id) for job_id in others]
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Job).where(Job.id.in_(others)).values(status=JobStatus.DONE))
        queued = await enqueue_regrades(session, [job.submission_id for job in regraded])
        again = await enqueue_regrades(session, [job.submission_id for job in regraded])
    assert (queued.created, queued.already_queued, again.created, again.already_queued) == (2, 0, 0, 2)
    async with sessionmaker() as session, session.begin():  # the push job is the newest of the three
        await session.execute(update(Job).where(Job.id == push_job).values(run_after=utcnow()))
    claimed = [await claim(sessionmaker, f"w{index}") for index in range(3)]
    assert claimed[0].id == push_job
    async with sessionmaker() as session:
        kinds = [(row.kind, row.priority) for row in [await session.get(Job, job.id) for job in claimed[1:]]]
    assert kinds == [(JobKind.GRADE, JobPriority.REGRADE)] * 2
