"""Write transactions written as plain synchronous SQLAlchemy code, run at the cost of one hand-over.

aiosqlite runs each call of a connection in its own thread and hands the result back to the event
loop: a cursor, its execution, its rows and its closing are four hand-overs, some thirty for a
transaction of seven statements, and each is a thread wake-up that a loaded machine delays. So on a
SQLite file a transaction of `TransactionWriter` runs whole in one thread of its own, on a
synchronous twin of the engine over the same file (`sqlite_file_twin`): one hand-over there and one
back. On PostgreSQL (and in-memory SQLite) the same code runs on the async engine through
`AsyncConnection.run_sync`, where each statement is a round trip to the server anyway.

A unit of work receives an open `Connection` inside the transaction and must not commit; the
transaction commits when it returns and rolls back when it raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from grader.db.engine import sqlite_file_twin, write_turn
from grader.settings import DatabaseSettings

T = TypeVar("T")


class TransactionWriter:
    def __init__(self, engine: AsyncEngine, settings: DatabaseSettings) -> None:
        self.engine = engine
        self._twin = sqlite_file_twin(engine, settings)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="grader-sqlite-writer") if self._twin else None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one write transaction, committed when this returns."""
        async with write_turn(self.engine):
            if self._twin is None or self._thread is None:
                async with self.engine.begin() as connection:
                    return await connection.run_sync(work)
            future = asyncio.get_running_loop().run_in_executor(self._thread, self._in_thread, work)
            try:
                return await asyncio.shield(future)
            finally:
                if not future.done():  # cancelled: the file is handed over only once the thread is done
                    await asyncio.wait([future])

    def _in_thread(self, work: Callable[[Connection], T]) -> T:
        assert self._twin is not None
        with self._twin.begin() as connection:
            return work(connection)

    async def close(self) -> None:
        if self._twin is not None and self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._twin.dispose)
            self._thread.shutdown()
