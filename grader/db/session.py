"""The per-request session dependency: one AsyncSession per request, closed when the request ends.

Handlers declare `db_session: DbSession`; writes go inside `async with db_session.begin()`. A GET or
HEAD request only reads, so it gets a session of the read-only factory (on SQLite: deferred
transactions that never wait for the write lock); every other method a writing one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

DbSession: TypeAlias = NamedDependency[AsyncSession]


_READ_METHODS = frozenset({"GET", "HEAD"})


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    factory = state.read_sessionmaker if request.method in _READ_METHODS else state.sessionmaker
    async with factory() as session:
        yield session
