"""Shared fixtures: the database under test, settings, the ASGI app and a real `grader serve` process.

`TEST_DATABASE_URL` switches the whole suite to PostgreSQL (SQLite file by default).
`TEST_POSTGRES_URL` names a PostgreSQL server for the tests that need PostgreSQL whatever the suite's
database is. Outside CI such tests skip with a reason saying what to start; under `CI=true` they fail.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from grader.course.config import Course, load_course
from grader.db.engine import make_engine, make_sessionmaker
from grader.db.models import Base
from grader.db.schema import upgrade_to_head
from grader.db.writer import TransactionWriter
from grader.grading.rubric import Rubric, RubricSet
from grader.grading.rubric_loader import load_checked_rubric, load_rubric_set
from grader.settings import (
    DatabaseSettings,
    GradingSettings,
    QueueSettings,
    RunnerSettings,
    SessionSettings,
    Settings,
    WebhookSettings,
    load_settings,
)
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.server import serve as serve_fake_github
from tests.support.docker import runner_settings_or_reason
from tests.support.servers import running_service

WEBHOOK_SECRET = "test-webhook-secret"
SESSION_SECRET = "test-session-secret-of-at-least-32-characters"
# The browser fixtures (`browser`, `page`) of the dashboard and end-to-end tests.
pytest_plugins = ["tests.support.browser"]
COURSE_FILE = Path(__file__).resolve().parent / "fixtures" / "course" / "course.toml"
FAKE_GITHUB_TOKEN = "test-token"
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip where a service is simply not started; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


def _reset_schema(url: str) -> None:
    async def drop_everything() -> None:
        engine = make_engine(DatabaseSettings(url=url))
        try:
            async with engine.begin() as connection:
                if connection.dialect.name == "postgresql":  # also drops what older schemas left behind
                    await connection.execute(text("DROP SCHEMA public CASCADE"))
                    await connection.execute(text("CREATE SCHEMA public"))
                else:
                    await connection.run_sync(Base.metadata.drop_all)
                    await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        finally:
            await engine.dispose()

    asyncio.run(drop_everything())
    upgrade_to_head(url)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql+asyncpg://"):
        skip_or_fail("needs PostgreSQL: start it (pg_ctlcluster 15 main start) and set TEST_POSTGRES_URL="
                     "postgresql+asyncpg://USER:PASSWORD@127.0.0.1/DB")
    _reset_schema(url)
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The suite's database, migrated to head once per session (which also proves the migrations run)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db')}/grader.db"
    _reset_schema(url)
    return url


async def _clear_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())


@functools.cache
def shipped_rubric() -> Rubric:
    """The lesson's rubric as the service loads it (read once per test session)."""
    return load_checked_rubric(GradingSettings())


@functools.cache
def sample_course() -> Course:
    """Two assignments: hw1 (the lesson's rubric, a deadline, 10 % a day for at most 3 days) and hw2
    (pass/fail bands, no late penalty)."""
    return load_course(COURSE_FILE)


@functools.cache
def course_rubrics() -> RubricSet:
    return load_rubric_set(make_settings(course=sample_course()))


def make_settings(database_url: str = "sqlite+aiosqlite:///:memory:", **sections: Any) -> Settings:
    """Settings for a test: defaults from an empty environment, then the given sections."""
    base = load_settings({})
    values: dict[str, Any] = {
        "database": DatabaseSettings(url=database_url),
        "webhook": WebhookSettings(secret=WEBHOOK_SECRET),
        "session": SessionSettings(secret=SESSION_SECRET),
        "queue": QueueSettings(workers=0),
    }
    values.update(sections)
    return Settings(**{**base.__dict__, **values})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(DatabaseSettings(url=database_url))
    await _clear_tables(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[TransactionWriter]:
    """The intake's writer on the suite's database (on a SQLite file: on a synchronous twin engine)."""
    writer = TransactionWriter(engine, DatabaseSettings(url=str(engine.url)))
    try:
        yield writer
    finally:
        await writer.close()


@pytest.fixture
async def postgres_sessionmaker(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on PostgreSQL whatever the suite's database, on empty tables, emptied again afterwards."""
    engine = make_engine(DatabaseSettings(url=postgres_url, pool_size=20))
    await _clear_tables(engine)
    try:
        yield make_sessionmaker(engine)
        await _clear_tables(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Database:
    url: str
    sessionmaker: async_sessionmaker[AsyncSession]


@pytest.fixture(params=["suite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def each_database(request: pytest.FixtureRequest) -> Database:
    """The suite's database, then PostgreSQL whatever the suite's database is; emptied first."""
    if request.param == "suite":
        return Database(request.getfixturevalue("database_url"), request.getfixturevalue("sessionmaker"))
    return Database(request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_sessionmaker"))


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake of GitHub's REST API that takes FAKE_GITHUB_TOKEN; the test fails if anything sent
    it a request GitHub's OpenAPI description does not allow."""
    fake = FakeGitHub(token=FAKE_GITHUB_TOKEN)
    with serve_fake_github(fake):
        yield fake
    assert fake.rejections == [], "requests GitHub's OpenAPI description does not allow"


@pytest.fixture(scope="session")
def runner_settings() -> RunnerSettings:
    """Docker and the runner image, with small limits; skipped outside CI when either is missing."""
    settings, reason = runner_settings_or_reason()
    if reason:
        skip_or_fail(reason)
    return settings


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start real `grader serve` processes on free ports; all are stopped at the end of the test."""
    with running_service(tmp_path) as start:
        yield start
