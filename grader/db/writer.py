"""Write transactions written as plain synchronous SQLAlchemy code, run at the cost of one hand-over.

aiosqlite runs each call of a connection in its own thread and hands the result back to the event
loop: a cursor, its execution, its rows and its closing are four hand-overs, and a delivery's
transaction made 28 of them, each a thread wake-up that a loaded machine delays. So on a
SQLite file a transaction of `TransactionWriter` runs whole in one thread of its own, on a
synchronous twin of the engine over the same file (`sqlite_file_twin`): one hand-over there and one
back. On PostgreSQL (and in-memory SQLite) the same code runs on the async engine through
`AsyncConnection.run_sync`, where each statement is a round trip to the server anyway.

SQLite copies its write-ahead log back into the database file (a checkpoint, with an fsync) on the
commit that takes the log past 1,000 pages, and that commit waits for it: one delivery in a hundred
took five to ten times as long as the others. The writer's connections leave checkpoints to a second
thread of their own, which runs one every `CHECKPOINT_EVERY` transactions without stopping writers
(PASSIVE); the service's other connections still checkpoint as SQLite does.

A unit of work receives an open `Connection` inside the transaction and must not commit; the
transaction commits when it returns and rolls back when it raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

from grader.db.engine import sqlite_file_twin, write_turn
from grader.db.errors import first_line
from grader.settings import DatabaseSettings

T = TypeVar("T")
log = logging.getLogger("grader.db")


# About SQLite's own 1,000 pages, at the ten pages a lone delivery writes.
CHECKPOINT_EVERY = 100


class TransactionWriter:
    def __init__(self, engine: AsyncEngine, settings: DatabaseSettings) -> None:
        self.engine = engine
        self._twin = sqlite_file_twin(engine, settings, connections=2)
        if self._twin is not None:
            event.listen(self._twin, "connect", _no_automatic_checkpoints)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="grader-sqlite-writer")
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="grader-sqlite-checkpoint")
        self._checkpoint: asyncio.Future[None] | None = None
        self._since_checkpoint = 0

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one write transaction, committed when this returns."""
        if self._twin is None:
            async with write_turn(self.engine), self.engine.begin() as connection:
                return await connection.run_sync(work)
        async with write_turn(self.engine):
            future = asyncio.get_running_loop().run_in_executor(self._thread, self._in_thread, work)
            try:
                result = await asyncio.shield(future)
            finally:
                if not future.done():  # cancelled: the file is handed over only once the thread is done
                    await asyncio.wait([future])
        self._after_commit()
        return result

    def _in_thread(self, work: Callable[[Connection], T]) -> T:
        assert self._twin is not None
        with self._twin.begin() as connection:
            return work(connection)

    def _after_commit(self) -> None:
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._since_checkpoint = 0
            self._checkpoint = asyncio.get_running_loop().run_in_executor(self._checkpointer, self._copy_log_back)

    def _copy_log_back(self) -> None:
        assert self._twin is not None
        try:
            connection = self._twin.raw_connection()  # outside any transaction: it takes no write lock
            try:
                connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
            finally:
                connection.close()
        except Exception as exc:  # the next one copies what this one could not; other connections checkpoint too
            log.warning("checkpoint failed", extra={"error_type": type(exc).__name__, "error": first_line(exc)})

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        if self._twin is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._twin.dispose)
        self._thread.shutdown()
        self._checkpointer.shutdown()


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
