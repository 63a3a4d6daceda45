"""No N+1: every list endpoint issues the same number of SQL statements for 2 rows as for 30."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api import factories
from tests.support.statements import recorded_statements

LIST_ENDPOINTS = [
    "/api/submissions?limit=200",
    "/api/gradebook",
    "/api/gradebook?format=csv",
    "/api/stats",
    "/api/jobs?limit=200",
    "/api/students/student-0",
]


def counting_statements(client: AsyncTestClient) -> AbstractContextManager[list[str]]:
    """Every statement the application's engine sends while the block runs."""
    return recorded_statements(client.app.state.engine.sync_engine)


async def _add_students(sessionmaker: async_sessionmaker[AsyncSession], first: int, count: int) -> None:
    async with sessionmaker() as session, session.begin():
        for index in range(first, first + count):
            sub = await factories.submission(session, f"student-{index % 7}", number=index + 1,
                                             failing=("tests",) if index % 2 else ())
            await factories.result(session, sub, advisory=True)


async def _count(client: AsyncTestClient, path: str) -> int:
    with counting_statements(client) as statements:
        response = await client.get(path)
    assert response.status_code == 200, path
    return len(statements)


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
async def test_list_endpoint__statement_count_does_not_grow_with_rows(
        client: AsyncTestClient, sessionmaker: async_sessionmaker[AsyncSession], path: str) -> None:
    await _add_students(sessionmaker, 0, 2)
    few = await _count(client, path)
    await _add_students(sessionmaker, 2, 28)
    many = await _count(client, path)
    assert few == many, f"{path}: {few} statements for 2 rows, {many} for 30"
    assert many <= 8, f"{path}: {many} statements"


async def _push_again(sessionmaker: async_sessionmaker[AsyncSession], students: int, rounds: int) -> None:
    async with sessionmaker() as session, session.begin():
        for round_ in range(rounds):
            for index in range(students):
                await factories.submission(session, f"student-{index}", number=1000 + index,
                                           failing=("tests",) if round_ % 2 else ())


@pytest.mark.parametrize("path", ["/api/stats", "/api/gradebook"])
async def test_class_views__statement_count_does_not_grow_with_history(
        client: AsyncTestClient, sessionmaker: async_sessionmaker[AsyncSession], path: str) -> None:
    await _push_again(sessionmaker, 5, 1)
    short = await _count(client, path)
    await _push_again(sessionmaker, 5, 6)  # the same students, six more pushes each
    long = await _count(client, path)
    assert short == long, f"{path}: {short} statements for 1 push a student, {long} for 7"
