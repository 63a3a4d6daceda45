"""`grader db upgrade`, and the one way a short command works on the service's database."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.db.engine import database
from grader.db.schema import upgrade_to_head
from grader.settings import Settings

T = TypeVar("T")


def run_with_database(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run `work(sessionmaker)` on an engine of its own."""
    upgrade_to_head(settings.database.url)

    async def main() -> T:
        async with database(settings.database) as sessionmaker:
            return await work(sessionmaker)

    return asyncio.run(main())


def upgrade_command(_: argparse.Namespace, settings: Settings) -> int:
    upgrade_to_head(settings.database.url)
    print("database schema is up to date")
    return 0
