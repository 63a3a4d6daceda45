"""On SQLite, reads of the read-only session factory start deferred: they never wait for a writer
holding the write lock (as a BEGIN IMMEDIATE would), and see the data as of their first read."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from grader.db.engine import make_engine, make_read_sessionmaker, make_sessionmaker
from grader.db.models import Base, Repository
from grader.settings import DatabaseSettings


@pytest.fixture
async def sqlite_engine(tmp_path):
    engine = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/reads.db", sqlite_busy_timeout_ms=300))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_read_session__does_not_wait_for_a_writer_holding_the_lock(sqlite_engine):
    writes, reads = make_sessionmaker(sqlite_engine), make_read_sessionmaker(sqlite_engine)
    async with writes() as writer, writer.begin():
        writer.add(Repository(github_id=1, full_name="course/a"))
        await writer.flush()  # the write lock is held until this block commits
        started = time.monotonic()
        async with reads() as reader:
            seen = await reader.scalar(select(func.count()).select_from(Repository))
        assert time.monotonic() - started < 0.2  # well under the 300 ms busy timeout
        assert seen == 0  # the snapshot before the writer's commit
    async with reads() as reader:
        assert await reader.scalar(select(func.count()).select_from(Repository)) == 1


async def test_write_session__still_takes_the_lock_at_begin(sqlite_engine):
    """The contrast: a writing session queues for the lock at BEGIN, so it cannot fail half-way."""
    writes = make_sessionmaker(sqlite_engine)
    async with writes() as writer, writer.begin():
        writer.add(Repository(github_id=1, full_name="course/a"))
        await writer.flush()
        with pytest.raises(OperationalError, match="locked"):
            async with writes() as other, other.begin():
                await other.scalar(select(func.count()).select_from(Repository))


async def test_read_sessions__run_side_by_side_with_a_stream_of_writes(sqlite_engine):
    writes, reads = make_sessionmaker(sqlite_engine), make_read_sessionmaker(sqlite_engine)
    stop = asyncio.Event()

    async def keep_writing() -> None:
        number = 0
        while not stop.is_set():
            async with writes() as writer, writer.begin():
                number += 1
                writer.add(Repository(github_id=number, full_name=f"course/{number}"))
                await asyncio.sleep(0.02)  # hold the lock a while, as a batch of deliveries does

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.sleep(0.05)
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            async with reads() as reader:
                await reader.scalar(select(func.count()).select_from(Repository))
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 0.2
    finally:
        stop.set()
        await writer
