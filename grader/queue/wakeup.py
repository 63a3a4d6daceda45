"""Waking idle workers when a job is queued, instead of having them poll the table.

Two ways a new job reaches a sleeping worker:

- in the same process (`grader serve` with its workers, the API queueing a regrade): every function of
  `grader.queue.enqueue` marks its session, and once that session's transaction commits the engine's
  `JobBell` rings (a marked session that rolls back rings nothing);
- from another process on PostgreSQL: migration 0005 makes every insert into `jobs` send
  `NOTIFY grader_jobs`, delivered at commit; `listen_for_jobs` holds one connection that LISTENs and
  rings the bell.

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
async def listen_for_jobs(engine: AsyncEngine) -> AsyncIterator[None]:
    """On PostgreSQL, ring the bell on every `NOTIFY grader_jobs` for the length of the block (one
    connection held). Anywhere else, or if listening fails, nothing: the workers poll."""
    if engine.dialect.name != "postgresql":
        yield
        return
    bell = bell_for(engine)
    async with contextlib.AsyncExitStack() as stack:
        try:
            connection = await stack.enter_async_context(engine.connect())
            raw: Any = (await connection.get_raw_connection()).driver_connection  # asyncpg's connection
            await raw.add_listener(NOTIFY_CHANNEL, lambda *_: bell.ring())
        except Exception as exc:  # a listener that cannot start only costs latency: the workers poll
            log.warning("listening for new jobs failed; polling", extra={"error_type": type(exc).__name__})
        yield
