"""The per-request session dependency: one AsyncSession per request, closed when the request ends.

Handlers declare `db_session: DbSession`; writes go inside `async with db_session.begin()`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

DbSession: TypeAlias = NamedDependency[AsyncSession]


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    async with state.sessionmaker() as session:
        yield session
