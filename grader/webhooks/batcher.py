"""Group commit for the webhook intake: deliveries that arrive while one transaction is being written
are stored together in the next one.

A transaction begins once the event loop has gone round `GATHER_TURNS` times after the first delivery
waiting for it, so that deliveries whose requests the server has already read (their handlers reach
`store` in the next turns) join it: a lone delivery waits those few turns, microseconds on an idle
loop; under load a transaction carries many, so its fixed costs (begin, commit, five statements) are
shared. Without the turns, at saturation on 32 connections a transaction carried 11 deliveries; with
them, 30. Each delivery still gets its own answer, and
only after the transaction holding it has committed. A batch that fails for a reason other than a
transient error is split and retried one by one, so a bad delivery cannot fail the others with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from grader.course.config import Course
from grader.db.records import RepositoryCache
from grader.db.retry import is_transient, run_with_retry
from grader.db.writer import TransactionWriter
from grader.queue.wakeup import bell_for
from grader.webhooks.intake import IntakeResult, Push, queued_any, record_pushes

_Waiting = tuple[Push, "asyncio.Future[IntakeResult]"]
# Turns of the event loop a transaction waits for deliveries already read to join it: their request
# is parsed in one turn and their handler reaches `store` in a later one (measured: 1, 2, 3 and 5
# turns gave 19, 25, 30 and 30 deliveries a transaction at saturation).
GATHER_TURNS = 3


class IntakeBatcher:
    def __init__(self, writer: TransactionWriter, *, retry_attempts: int = 5, max_batch: int = 128,
                 course: Course | None = None) -> None:
        self._writer = writer
        self._bell = bell_for(writer.engine)
        self._course = course
        self._retry_attempts = retry_attempts
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._repositories = RepositoryCache()
        self._writing: asyncio.Task[None] | None = None

    async def store(self, push: Push) -> IntakeResult:
        """Store `push`; returns once it is committed (raises what the transaction raised)."""
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((push, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            for _ in range(GATHER_TURNS):
                if len(self._waiting) >= self._max_batch:
                    break
                await asyncio.sleep(0)
            batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
            await self._write(batch)

    async def _write(self, batch: Sequence[_Waiting]) -> None:
        try:
            results = await run_with_retry(lambda: self._transaction([push for push, _ in batch]),
                                           attempts=self._retry_attempts)
        except Exception as exc:
            if len(batch) > 1 and not is_transient(exc):
                for waiting in batch:
                    await self._write([waiting])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # the client may have gone; the delivery is stored all the same
                future.set_result(result)

    async def _transaction(self, pushes: list[Push]) -> list[IntakeResult]:
        trusted_cache = bool(self._repositories.rows)
        try:
            return await self._attempt(pushes)
        except IntegrityError:
            if not trusted_cache:
                raise
            return await self._attempt(pushes)  # a cached repository row may be gone: once more, reading it

    async def _attempt(self, pushes: list[Push]) -> list[IntakeResult]:
        try:
            results = await self._writer.run(
                lambda connection: record_pushes(connection, pushes, self._course, self._repositories))
        except BaseException:
            self._repositories.forget()  # a row cached from a rolled-back transaction must not be trusted
            raise
        self._repositories.committed()
        if queued_any(results):
            self._bell.ring()
        return results
