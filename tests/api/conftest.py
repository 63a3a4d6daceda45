"""An instructor API client: the ASGI app over httpx, on the suite's database, with a valid token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.app import create_app
from grader.settings import Settings
from tests.api import factories
from tests.conftest import shipped_rubric


@pytest.fixture
async def api_token(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    return await factories.token(sessionmaker)


@pytest.fixture
async def anonymous(settings: Settings,
                    sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncTestClient]:
    """A client without credentials (depends on `sessionmaker` so the tables start empty)."""
    async with AsyncTestClient(create_app(settings, shipped_rubric(), workers=False)) as client:
        yield client


@pytest.fixture
async def client(anonymous: AsyncTestClient, api_token: str) -> AsyncTestClient:
    anonymous.headers["Authorization"] = f"Bearer {api_token}"
    return anonymous
