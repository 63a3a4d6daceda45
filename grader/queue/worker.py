"""Workers: claim a job, keep its lease alive while it runs, store the outcome, repeat.

A job's work is a `JobProcessor`, given by the composition root: it returns a `JobOutput` (a final
result, whatever the grade) or raises; any exception is an infrastructure failure, retried with backoff
up to the limit; a `Reschedule` that does not count (a GitHub rate limit) queues it again for later
without using an attempt. An idle worker waits for `grader.queue.wakeup`'s bell (a job was queued) or
`poll_seconds`, never polling in a tight loop. When `stop`
is set the worker claims nothing more, lets the current job finish for the shutdown grace, and releases
it otherwise so another worker takes it at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from grader.db.engine import write_turn
from grader.db.retry import run_with_retry
from grader.queue import jobs
from grader.queue.jobs import ClaimedJob, FinalFailure, JobOutput, Reschedule
from grader.queue.wakeup import bell_for, listen_for_jobs

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from grader.settings import Settings

JobProcessor = Callable[[ClaimedJob], Coroutine[Any, Any, JobOutput | None]]
log = logging.getLogger("grader.worker")


class LeaseLost(Exception):
    """Another attempt owns the job now; this worker must drop its work."""


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 processor: JobProcessor) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.processor = processor
        self.worker_id = new_worker_id()
        self.bell = bell_for(sessionmaker.kw["bind"])

    async def _in_transaction(self, step: Callable[[AsyncSession], Awaitable[object]]) -> object:
        async def unit_of_work() -> object:
            async with write_turn(self.sessionmaker.kw["bind"]), self.sessionmaker() as session, session.begin():
                return await step(session)

        return await run_with_retry(unit_of_work, attempts=self.settings.database.retry_attempts)

    async def run(self, stop: asyncio.Event) -> None:
        queue = self.settings.queue
        while not stop.is_set():
            try:
                job = await self._in_transaction(lambda s: jobs.claim_next(s, self.worker_id, queue))
            except (DBAPIError, OSError) as exc:
                log.warning("claim failed", extra={"worker": self.worker_id, "error_type": type(exc).__name__})
                job = None
            if job is None:
                await self._idle(stop)
                continue
            assert isinstance(job, ClaimedJob)
            try:
                await self.process(job, stop)
            except (DBAPIError, OSError) as exc:  # the job keeps its lease; it is claimed again when it ends
                log.warning("job outcome not stored", extra={"job_id": job.id, "worker": self.worker_id,
                                                             "error_type": type(exc).__name__})

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until a job is queued (the bell), `stop`, or `poll_seconds` pass (jobs whose time came)."""
        rung = asyncio.create_task(self.bell.wait(self.settings.queue.poll_seconds))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({rung, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (rung, stopping):
                task.cancel()
            await asyncio.gather(rung, stopping, return_exceptions=True)

    async def process(self, job: ClaimedJob, stop: asyncio.Event) -> None:
        started = time.monotonic()
        self._log(job, "running", started)
        work = asyncio.create_task(self.processor(job))
        keeper = asyncio.create_task(self._keep_lease(job, work))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # shutting down: give the job a grace period, then hand it back
                await asyncio.wait({work}, timeout=self.settings.queue.shutdown_grace_seconds)
            if not work.done():
                work.cancel()
                await self._release(job, started)
                return
            await self._settle(job, work, started)
        finally:
            for task in (keeper, stopping):
                task.cancel()
            await asyncio.gather(work, keeper, stopping, return_exceptions=True)

    async def _settle(self, job: ClaimedJob, work: asyncio.Task[JobOutput | None], started: float) -> None:
        error = work.exception() if not work.cancelled() else LeaseLost("lease lost")
        if isinstance(error, LeaseLost):
            self._log(job, "lease_lost", started)
            return
        if error is None:
            stored = await self._in_transaction(lambda s: jobs.complete(s, job, work.result()))
            self._log(job, "done" if stored else "fenced_out", started)
            return
        reason = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, FinalFailure):
            failed = await self._in_transaction(lambda s: jobs.fail_for_good(s, job, str(error)[:2000]))
            self._log(job, "failed" if failed else "fenced_out", started, reason=reason)
            return
        if isinstance(error, Reschedule) and not error.counts:
            postponed = await self._in_transaction(lambda s: jobs.postpone(s, job, error.seconds, reason))
            self._log(job, "postponed" if postponed else "fenced_out", started, reason=reason)
            return
        delay = error.seconds if isinstance(error, Reschedule) else None
        status = await self._in_transaction(
            lambda s: jobs.fail_or_retry(s, job, reason, self.settings.queue, delay_seconds=delay))
        self._log(job, "fenced_out" if status is None else f"{status}", started, reason=reason)

    async def _release(self, job: ClaimedJob, started: float) -> None:
        released = await self._in_transaction(lambda s: jobs.release(s, job))
        self._log(job, "released" if released else "fenced_out", started)

    async def _keep_lease(self, job: ClaimedJob, work: asyncio.Task[JobOutput | None]) -> None:
        queue = self.settings.queue
        while not work.done():
            await asyncio.sleep(queue.heartbeat_seconds)
            try:
                alive = await self._in_transaction(lambda s: jobs.heartbeat(s, job, queue))
            except (DBAPIError, OSError):
                continue  # the lease is long enough to survive a missed beat
            if not alive:
                work.cancel()
                return

    def _log(self, job: ClaimedJob, outcome: str, started: float, **extra: object) -> None:
        log.info("job", extra={"job_id": job.id, "submission_id": job.submission_id, "kind": str(job.kind),
                               "attempt": job.attempt, "worker": self.worker_id, "outcome": outcome,
                               "duration_ms": round((time.monotonic() - started) * 1000, 1), **extra})


async def run_workers(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, stop: asyncio.Event,
                      processor: JobProcessor, count: int | None = None) -> None:
    """Run `count` (default: the setting) workers of `processor` until `stop` is set."""
    workers = [Worker(sessionmaker, settings, processor) for _ in range(count or settings.queue.workers)]
    async with listen_for_jobs(sessionmaker.kw["bind"]):
        await asyncio.gather(*(worker.run(stop) for worker in workers))
