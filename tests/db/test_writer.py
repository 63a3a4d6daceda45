"""The intake's transactions: written synchronously; on a SQLite file run at once on the event loop,
never waiting there for a lock, and in a writer thread when they must wait."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from grader.db import writer as writer_module
from grader.db.engine import make_engine
from grader.db.errors import DatabaseReplacedError
from grader.db.models import Base, Repository
from grader.db.writer import TransactionWriter
from grader.settings import DatabaseSettings
from tests.support.polling import eventually
from tests.support.statements import recorded_statements


def _add_repository(github_id: int) -> object:
    def work(connection: Connection) -> str:
        connection.execute(Repository.__table__.insert().values(github_id=github_id, full_name=f"course/r{github_id}"))
        return threading.current_thread().name

    return work


async def _sqlite_file(path: Path):
    engine = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


async def _repositories(engine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(Repository))).scalar_one()


async def test_writer__a_sqlite_transaction_runs_at_once_on_the_same_file(tmp_path: Path):
    engine = await _sqlite_file(tmp_path / "w.db")
    writer = TransactionWriter(engine, DatabaseSettings(url=str(engine.url)))
    try:
        with recorded_statements() as statements:
            thread = await writer.run(_add_repository(1))
        assert thread == threading.current_thread().name  # no hand-over to another thread
        assert statements[0] == "BEGIN IMMEDIATE"  # the twin is tuned like the engine: writers queue at BEGIN
        assert await _repositories(engine) == 1  # committed, and visible to the service's engine
    finally:
        await writer.close()
        await engine.dispose()


async def test_writer__a_transaction_that_must_wait_for_the_lock_waits_in_its_thread_not_on_the_loop(tmp_path: Path):
    engine = await _sqlite_file(tmp_path / "w.db")
    writer = TransactionWriter(engine, DatabaseSettings(url=str(engine.url)))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(tick())
    try:
        async with engine.begin() as other:  # another connection holds the write lock (a request's transaction)
            await other.execute(Repository.__table__.insert().values(github_id=9, full_name="course/r9"))
            writing = asyncio.create_task(writer.run(_add_repository(1)))
            await asyncio.sleep(0.3)
            assert not writing.done()
            assert ticks >= 10  # the event loop went on meanwhile
        assert (await writing).startswith("grader-sqlite-writer")
        assert await _repositories(engine) == 2
    finally:
        ticking.cancel()
        await writer.close()
        await engine.dispose()


async def test_writer__a_failing_unit_of_work_leaves_nothing_behind(each_database):
    engine = each_database.sessionmaker.kw["bind"]
    writer = TransactionWriter(engine, DatabaseSettings(url=each_database.url))

    def fails(connection: Connection) -> None:
        _add_repository(2)(connection)
        raise RuntimeError("the client's payload was bad after all")

    try:
        with pytest.raises(RuntimeError):
            await writer.run(fails)
        assert await _repositories(engine) == 0
        await writer.run(_add_repository(3))  # the writer (and its one connection) is usable again
        assert await _repositories(engine) == 1
    finally:
        await writer.close()


async def test_writer__refuses_a_sqlite_file_replaced_under_it(tmp_path: Path):
    engine = await _sqlite_file(tmp_path / "w.db")  # the engine opened the file, and remembers which one
    writer = TransactionWriter(engine, DatabaseSettings(url=str(engine.url)))
    other = await _sqlite_file(tmp_path / "other.db")
    await other.dispose()
    try:
        (tmp_path / "other.db").replace(tmp_path / "w.db")
        with pytest.raises(DatabaseReplacedError):
            await writer.run(_add_repository(4))
    finally:
        await writer.close()
        await engine.dispose()


async def test_writer__leaves_checkpoints_to_its_own_thread_every_so_many_transactions(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 3)
    engine = await _sqlite_file(tmp_path / "w.db")
    writer = TransactionWriter(engine, DatabaseSettings(url=str(engine.url)))
    database_file = tmp_path / "w.db"
    try:
        before = database_file.stat().st_size
        await writer.run(_add_repository(1))
        assert await writer.run(_automatic_checkpoint_pages) == 0  # its commits never wait for a checkpoint
        assert database_file.stat().st_size == before  # the new pages are still only in the log

        await writer.run(_add_repository(2))  # the third transaction

        async def copied_back() -> bool:
            return database_file.stat().st_size > before

        await eventually(copied_back, what="the log copied back into the database file")
    finally:
        await writer.close()
        await engine.dispose()


def _automatic_checkpoint_pages(connection: Connection) -> int:
    return connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
