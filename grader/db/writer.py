"""Write transactions written as plain synchronous SQLAlchemy code, run without hand-overs.

aiosqlite runs each call of a connection in its own thread and hands the result back to the event
loop: a cursor, its execution, its rows and its closing are four hand-overs, and a delivery's
transaction made 28 of them, each a thread wake-up that a loaded machine delays. On a SQLite file a
transaction of `TransactionWriter` instead runs at once on the event loop, on a synchronous twin of
the engine over the same file (`sqlite_file_twin`): a few hundred microseconds of work, like parsing
a payload, for nothing in it waits. Commits append to the write-ahead log in the page cache
(`synchronous=NORMAL` syncs nothing then); the copy of the log back into the file, which does sync,
runs in a thread of its own (below); and the connection never waits for a lock: it has no busy
timeout, so when another connection holds the write lock (another process, or a request's
transaction) BEGIN IMMEDIATE fails at once and that transaction runs in a writer thread instead, on a
connection that waits as long as `sqlite_busy_timeout_ms` allows. Running every transaction in that
thread was measured too (`bench/webhook_bench.py`): 0.76 times the throughput, because the event
loop then loses the GIL to the thread at every system call it makes.

On PostgreSQL (and in-memory SQLite) the same code runs on the async engine through
`AsyncConnection.run_sync`, where each statement is a round trip to the server anyway.

SQLite also copies the log back (a checkpoint) on the commit that takes it past 1,000 pages, and that
commit waits for it: one delivery in a hundred took five to ten times as long as the others. The
writer's connections leave checkpoints to a thread of their own, which runs one every
`CHECKPOINT_EVERY` transactions without stopping writers (PASSIVE); the service's other connections
still checkpoint as SQLite does.

A unit of work receives an open `Connection` inside the transaction and must not commit; the
transaction commits when it returns and rolls back when it raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from grader.db.engine import sqlite_file_twin, write_turn
from grader.db.errors import first_line
from grader.settings import DatabaseSettings

T = TypeVar("T")
log = logging.getLogger("grader.db")

# About SQLite's own 1,000 pages, at the ten pages a lone delivery writes.
CHECKPOINT_EVERY = 100


class _Locked(Exception):
    """Another connection holds SQLite's write lock: the transaction did not begin."""


class TransactionWriter:
    def __init__(self, engine: AsyncEngine, settings: DatabaseSettings) -> None:
        self.engine = engine
        self._now = sqlite_file_twin(engine, settings, connections=1, busy_timeout_ms=0)
        self._waiting = sqlite_file_twin(engine, settings, connections=2)  # the writer and the checkpointer
        for twin in (self._now, self._waiting):
            if twin is not None:
                event.listen(twin, "connect", _no_automatic_checkpoints)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="grader-sqlite-writer")
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="grader-sqlite-checkpoint")
        self._checkpoint: asyncio.Future[None] | None = None
        self._since_checkpoint = 0

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one write transaction, committed when this returns."""
        if self._now is None or self._waiting is None:
            async with write_turn(self.engine), self.engine.begin() as connection:
                return await connection.run_sync(work)
        async with write_turn(self.engine):
            try:
                result = _transaction(self._now, work)
            except _Locked:
                result = await self._in_thread(self._waiting, work)
        self._after_commit()
        return result

    async def _in_thread(self, twin: Engine, work: Callable[[Connection], T]) -> T:
        future = asyncio.get_running_loop().run_in_executor(self._thread, _transaction, twin, work)
        try:
            return await asyncio.shield(future)
        finally:
            if not future.done():  # cancelled: the file is handed over only once the thread is done
                await asyncio.wait([future])

    def _after_commit(self) -> None:
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY and (self._checkpoint is None or self._checkpoint.done()):
            self._since_checkpoint = 0
            self._checkpoint = asyncio.get_running_loop().run_in_executor(self._checkpointer, self._copy_log_back)

    def _copy_log_back(self) -> None:
        assert self._waiting is not None
        try:
            connection = self._waiting.raw_connection()  # outside any transaction: it takes no write lock
            try:
                connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
            finally:
                connection.close()
        except Exception as exc:  # the next one copies what this one could not; other connections checkpoint too
            log.warning("checkpoint failed", extra={"error_type": type(exc).__name__, "error": first_line(exc)})

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.wait([self._checkpoint])
        for twin in (self._now, self._waiting):
            if twin is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, twin.dispose)
        self._thread.shutdown()
        self._checkpointer.shutdown()


def _transaction(twin: Engine, work: Callable[[Connection], T]) -> T:
    """`work` in a transaction of `twin`; `_Locked` if it could not begin for another writer's lock."""
    with twin.connect() as connection:
        try:
            transaction = connection.begin()  # BEGIN IMMEDIATE: the write lock, or SQLITE_BUSY
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
            raise _Locked from exc
        with transaction:
            return work(connection)


def _is_busy(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == _SQLITE_BUSY  # the primary code of any extended one


_SQLITE_BUSY = 5


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
