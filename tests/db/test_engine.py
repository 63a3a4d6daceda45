"""The engine is set up as the lesson teaches: pragmas on SQLite, pool settings on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from grader.db.engine import make_engine, make_sessionmaker, write_turn
from grader.db.models import Repository
from grader.settings import DatabaseSettings


async def test_engine__sqlite_runs_wal_with_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/e.db", sqlite_busy_timeout_ms=4321))
    try:
        async with engine.connect() as connection:
            pragmas = {name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                       for name in ("journal_mode", "foreign_keys", "busy_timeout")}
    finally:
        await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 4321}


async def test_engine__sqlite_transactions_begin_immediate_so_two_writers_queue(tmp_path):
    """A second connection cannot even begin while the first holds the write lock."""
    url = f"sqlite+aiosqlite:///{tmp_path}/lock.db"
    engine = make_engine(DatabaseSettings(url=url, sqlite_busy_timeout_ms=50))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.begin() as first:
            await first.execute(text("SELECT 1"))  # a read, yet the lock is already taken
            with pytest.raises(Exception, match="locked"):
                async with engine.begin() as second:
                    await second.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_engine__objects_stay_readable_after_commit(sessionmaker):
    async with sessionmaker() as session:
        async with session.begin():
            repo = Repository(github_id=42, full_name="course/readable")
            session.add(repo)
        assert repo.full_name == "course/readable"  # expire_on_commit=False: no reload, no lazy IO


async def test_engine__write_turn_serialises_writers_of_one_process_on_sqlite(tmp_path):
    engine = make_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/turn.db"))
    order: list[str] = []

    async def writer(name: str) -> None:
        async with write_turn(engine):
            order.append(f"{name}-in")
            await asyncio.sleep(0.01)
            order.append(f"{name}-out")

    try:
        await asyncio.gather(writer("a"), writer("b"))
    finally:
        await engine.dispose()
    assert order == ["a-in", "a-out", "b-in", "b-out"]


def test_engine__postgresql_pool_comes_from_settings():
    settings = DatabaseSettings(url="postgresql+asyncpg://u:p@127.0.0.1:1/db", pool_size=3, max_overflow=4,
                                pool_timeout=7, pool_recycle=600, pool_pre_ping=True)
    engine = make_engine(settings)
    pool = engine.sync_engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (3, 4, 7, 600, True)
    assert make_sessionmaker(engine).kw["expire_on_commit"] is False
