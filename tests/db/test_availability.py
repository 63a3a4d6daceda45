"""Only real unavailability is a 503 "database unavailable": errors of the data never look like an outage."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import RequestFactory
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.tokens import create_token
from grader.app import database_error_response
from grader.db.engine import make_engine
from grader.db.errors import DatabaseReplacedError, is_unavailable
from grader.db.models import ApiToken, utcnow
from grader.settings import DatabaseSettings
from tests.conftest import Database

REQUEST = RequestFactory().post("/webhooks/github")


async def _raised(sessionmaker: async_sessionmaker[AsyncSession], statement) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        async with sessionmaker() as session, session.begin():
            await session.execute(statement)
    return caught.value


async def _connect_error(url: str) -> BaseException:
    engine = make_engine(DatabaseSettings(url=url))
    try:
        with pytest.raises((DBAPIError, OSError)) as caught:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return caught.value
    finally:
        await engine.dispose()


async def test_unavailable__an_integrity_error_is_a_409_and_not_an_outage(each_database: Database) -> None:
    await create_token(each_database.sessionmaker, "taken")
    with pytest.raises(IntegrityError) as caught:
        await create_token(each_database.sessionmaker, "taken")
    assert not is_unavailable(caught.value)
    response = database_error_response(REQUEST, caught.value)
    assert response.status_code == 409
    assert "Retry-After" not in response.headers


async def test_unavailable__a_bad_statement_is_a_500_and_not_an_outage(each_database: Database) -> None:
    error = await _raised(each_database.sessionmaker, text("SELECT * FROM no_such_table"))
    assert not is_unavailable(error)
    assert database_error_response(REQUEST, error).status_code == 500
    assert not is_unavailable(ValueError("not a database error"))


@pytest.mark.postgres
async def test_unavailable__a_value_postgresql_rejects_is_a_500_and_not_an_outage(postgres_sessionmaker) -> None:
    too_long = insert(ApiToken).values(name="n" * 101, token_hash="0" * 64, created_at=utcnow())
    error = await _raised(postgres_sessionmaker, too_long)
    assert not is_unavailable(error)
    assert database_error_response(REQUEST, error).status_code == 500


async def test_unavailable__what_cannot_be_reached_or_opened_is_an_outage(tmp_path: Path) -> None:
    errors = [
        await _connect_error(f"sqlite+aiosqlite:///{tmp_path}/missing-dir/grader.db"),
        await _connect_error("postgresql+asyncpg://grader:grader@127.0.0.1:9/grader"),  # nothing listens on 9
        DatabaseReplacedError("the SQLite file was replaced"),
        PoolTimeoutError("QueuePool limit reached"),
    ]
    for error in errors:
        assert is_unavailable(error), error
        response = database_error_response(REQUEST, error)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "30")


@pytest.mark.postgres
async def test_unavailable__a_refused_login_or_missing_database_is_an_outage(postgres_url: str) -> None:
    user, _, rest = postgres_url.partition("@")
    wrong_password = user.rsplit(":", 1)[0] + ":not-the-password@" + rest
    missing_database = postgres_url.rsplit("/", 1)[0] + "/no_such_database_here"
    for url in (wrong_password, missing_database):
        assert is_unavailable(await _connect_error(url)), url

