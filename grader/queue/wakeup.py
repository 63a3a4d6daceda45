"""Waking idle workers when a job is queued, instead of having them poll the table.

Two ways a new job reaches a sleeping worker:

- in the same process (`grader serve` with its workers, the API queueing a regrade): every function of
  `grader.queue.enqueue` marks its session, and once that session's transaction commits the engine's
  `JobBell` rings (a marked session that rolls back rings nothing);
- from another process on PostgreSQL: migration 0005 makes every insert into `jobs` send
  `NOTIFY grader_jobs`, delivered at commit; `listen_for_jobs` holds one connection that LISTENs and
  rings the bell. When that connection is lost (PostgreSQL restarted, the backend terminated, the
  connection closed by the server) the listener logs it and connects again, waiting longer after each
  failure; once it listens again it rings once, for the jobs queued while nobody listened.

A worker still looks at the table after `poll_seconds` without a ring (a job whose `run_after` has
come, a lease that expired, a notification lost with its connection), so a ring is an optimisation,
never the only way a job is found.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

NOTIFY_CHANNEL = "grader_jobs"
_QUEUED_MARK = "grader_jobs_queued"
log = logging.getLogger("grader.worker")


class JobBell:
    """Wakes every waiting worker of one engine. Lives on the event loop's thread."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` for a ring; True when one came."""
        if not self._rung.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rung.wait(), seconds)
        rung = self._rung.is_set()
        self._rung.clear()  # every waiter looks at the table once; the first to claim takes the job
        return rung


_bells: weakref.WeakKeyDictionary[Any, JobBell] = weakref.WeakKeyDictionary()


def bell_for(engine: AsyncEngine) -> JobBell:
    """The bell shared by every worker and enqueuer of `engine` in this process."""
    bell = _bells.get(engine.sync_engine)
    if bell is None:
        bell = _bells[engine.sync_engine] = JobBell()
    return bell


def note_queued(session: AsyncSession) -> None:
    """Ring the engine's bell once this session's transaction commits (it queued a job)."""
    session.sync_session.info[_QUEUED_MARK] = True


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if not session.info.pop(_QUEUED_MARK, False):
        return
    bind = session.get_bind()
    bell = _bells.get(getattr(bind, "engine", bind))
    if bell is not None:
        bell.ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_QUEUED_MARK, None)


@contextlib.asynccontextmanager
async def listen_for_jobs(engine: AsyncEngine, *, first_retry_seconds: float = 0.1, max_retry_seconds: float = 30.0,
                          check_seconds: float = 30.0) -> AsyncIterator[None]:
    """On PostgreSQL, ring the bell on every `NOTIFY grader_jobs` for the length of the block, holding
    one connection, and connect again whenever it is lost (after `first_retry_seconds`, doubling up to
    `max_retry_seconds` while connecting fails). `check_seconds`: how often a quiet connection is asked
    whether it still answers (a connection dropped without a word is noticed then). Anywhere else,
    nothing: the workers poll."""
    if engine.dialect.name != "postgresql":
        yield
        return
    listener = asyncio.create_task(_keep_listening(engine, bell_for(engine), Backoff(first_retry_seconds,
                                                                                   max_retry_seconds), check_seconds))
    try:
        yield
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


@dataclass
class Backoff:
    """Waits between attempts to connect: `first`, doubling up to `most`; back to `first` once one works."""

    first: float
    most: float
    failures: int = 0

    def next_wait(self) -> float:
        wait = min(self.most, self.first * 2.0 ** self.failures)
        self.failures += 1
        return wait


async def _keep_listening(engine: AsyncEngine, bell: JobBell, backoff: Backoff, check_seconds: float) -> None:
    while True:
        try:
            await _listen_until_lost(engine, bell, backoff, check_seconds)
            log.warning("the connection listening for new jobs was lost; connecting again")
        except Exception as exc:  # connecting failed: only latency is lost meanwhile, the workers poll
            if backoff.failures == 0:
                log.warning("listening for new jobs failed; polling until it works again",
                            extra={"error_type": type(exc).__name__})
        await asyncio.sleep(backoff.next_wait())


async def _listen_until_lost(engine: AsyncEngine, bell: JobBell, backoff: Backoff, check_seconds: float) -> None:
    async with engine.connect() as connection:
        try:
            raw: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg's connection
            lost = asyncio.Event()
            raw.add_termination_listener(lambda _: lost.set())
            await raw.add_listener(NOTIFY_CHANNEL, lambda *_: bell.ring())
            if backoff.failures:
                log.info("listening for new jobs again")
                bell.ring()  # jobs queued while nobody listened: look at the table now
            backoff.failures = 0
            while not await _lost_within(raw, lost, check_seconds):
                pass
        finally:
            await connection.invalidate()  # closed, not pooled: dead, or still listening and ringing


async def _lost_within(raw: Any, lost: asyncio.Event, seconds: float) -> bool:
    """Whether the connection was lost within `seconds`; then, if it looks alive, whether it answers."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(lost.wait(), seconds)
    if lost.is_set() or raw.is_closed():
        return True
    try:
        await raw.fetchval("SELECT 1", timeout=seconds)
    except Exception:  # any failure to answer means the connection is gone
        return True
    return False
