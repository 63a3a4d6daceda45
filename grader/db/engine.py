"""The async engine and session factory, built from settings.

SQLite is tuned for a web server: WAL so readers never block the writer, a busy timeout, foreign
keys on, and every writing transaction opened with BEGIN IMMEDIATE so concurrent writers queue for the
lock instead of failing later with "database is locked" when a read transaction tries to write.
Sessions of `make_read_sessionmaker` only read: their transactions open with a plain (deferred) BEGIN,
which in WAL mode reads a snapshot without waiting for, or holding up, any writer.

A SQLite file can also be deleted or replaced under a running service: its open connections would go
on writing to a file nobody will read again. So every transaction first checks that the configured
path is still the file the engine opened (one `stat`), and refuses with `DatabaseReplacedError` if not.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from grader.db.errors import DatabaseReplacedError
from grader.settings import DatabaseSettings


def make_engine(settings: DatabaseSettings) -> AsyncEngine:
    """`create_async_engine` with pool settings on PostgreSQL and web-server pragmas on SQLite."""
    if settings.is_sqlite:
        engine = create_async_engine(settings.url, echo=settings.echo)
        _tune_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(
        settings.url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without a new query (and
    # without an implicit lazy load, which async sessions cannot do).
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


READ_ONLY_OPTION = "grader_read_only"


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read (the API's and the dashboard's GETs, token look-ups).

    On SQLite their transactions start deferred, so a read never queues behind the intake's or a
    worker's write lock. A write in such a session is a bug; SQLite may then answer "database is locked".
    """
    reader = engine.execution_options(**{READ_ONLY_OPTION: True})
    return async_sessionmaker(reader, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def database(settings: DatabaseSettings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """An engine for the length of the block, disposed however the block ends; yields its sessionmaker."""
    async with driver_threads_settled():
        engine = make_engine(settings)
        try:
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


@asynccontextmanager
async def driver_threads_settled() -> AsyncIterator[None]:
    """Wait, before the block's event loop can close, for the driver threads the block started.

    aiosqlite runs each connection in a daemon thread of its own; after a connection that failed to
    open, that thread still reports its clean-up to the event loop. Had the loop closed first, the
    thread's "event loop is closed" error would print a traceback after the command's one-line error,
    at a moment that depends on thread scheduling. Joining the threads while the loop runs removes the race.
    """
    before = set(threading.enumerate())
    try:
        yield
    finally:
        started = [thread for thread in threading.enumerate() if thread not in before and thread.daemon]
        if started:
            await asyncio.to_thread(_join_all, started, DRIVER_THREAD_WAIT_SECONDS)


def _join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))


DRIVER_THREAD_WAIT_SECONDS = 2.0
_sqlite_write_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_turn(engine: AsyncEngine) -> AbstractAsyncContextManager[object]:
    """Wait for this process' turn to write (SQLite only; PostgreSQL has row locks).

    SQLite allows one writer at a time. Writers of one process that collided on the file lock would
    wait in SQLite's busy handler, which sleeps in growing steps of up to 100 ms; queueing them on an
    asyncio lock first hands the file over at once and in arrival order. Writers in other processes
    still meet the busy timeout.
    """
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _sqlite_write_locks.get(engine.sync_engine)
    if lock is None:
        lock = _sqlite_write_locks[engine.sync_engine] = asyncio.Lock()
    return lock


class SqliteFile:
    """Which file an engine's connections opened, and whether the configured path still names it."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self.opened: tuple[int, int] | None = None  # (device, inode) when the first connection opened it

    def _identity(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_dev, stat.st_ino

    def connected(self) -> None:
        if self.opened is None:
            self.opened = self._identity()

    def check(self) -> None:
        """Raise DatabaseReplacedError if the path is gone or is another file than the one opened."""
        if self.opened is not None and self._identity() != self.opened:
            raise DatabaseReplacedError(f"the SQLite file {self.path} was deleted or replaced while in use; "
                                        "restore it or restart the service")


_sqlite_files: weakref.WeakKeyDictionary[Any, SqliteFile] = weakref.WeakKeyDictionary()


def check_database_file(engine: AsyncEngine) -> None:
    """Raise DatabaseReplacedError when the engine's SQLite file is not the configured one any more
    (a no-op for PostgreSQL and in-memory SQLite)."""
    guard = _sqlite_files.get(engine.sync_engine)
    if guard is not None:
        guard.check()


def _tune_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    database = make_url(engine.url).database
    guard = None if database in (None, "", ":memory:") else SqliteFile(Path(str(database)))
    if guard is not None:
        _sqlite_files[engine.sync_engine] = guard
    _tune_connections(engine.sync_engine, busy_timeout_ms, guard)


def _tune_connections(engine: Engine, busy_timeout_ms: int, guard: SqliteFile | None) -> None:
    """Pragmas on every new connection of `engine`, and BEGIN IMMEDIATE for its writing transactions;
    `guard`: the file the connections must still be writing to (None: an in-memory database)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so that "begin" below decides how it starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if guard is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across a crash of the process in WAL mode; only power loss can
            # drop the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if guard is not None:
            guard.connected()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if guard is not None:
            guard.check()
        reads_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def sqlite_file_twin(engine: AsyncEngine, settings: DatabaseSettings, connections: int,
                     busy_timeout_ms: int | None = None) -> Engine | None:
    """A synchronous engine (the standard library's sqlite3 driver) on the SQLite file of `engine`,
    tuned the same way (with `busy_timeout_ms` instead of the setting, if given) and refusing the same
    replaced file, with a pool of `connections` (one per thread that uses it); None for PostgreSQL or
    an in-memory database, which another engine could not share."""
    guard = _sqlite_files.get(engine.sync_engine)
    if guard is None:
        return None
    twin = create_engine(engine.url.set(drivername="sqlite+pysqlite"), echo=settings.echo, pool_size=connections,
                         max_overflow=0)
    _tune_connections(twin, settings.sqlite_busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms, guard)
    return twin
