"""Alembic environment: async engine, the URL from the caller or from settings."""

from __future__ import annotations

import asyncio
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from grader.db.engine import driver_threads_settled, make_engine
from grader.db.models import Base, UTCDateTime
from grader.settings import DatabaseSettings, load_settings

config = context.config
target_metadata = Base.metadata


def _database_settings() -> DatabaseSettings:
    url = config.attributes.get("database_url") or load_settings().database.url
    return DatabaseSettings(url=url)


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import the models: render the UTC column type as the plain SQL type.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    async with driver_threads_settled():
        engine = make_engine(_database_settings())
        try:
            async with engine.connect() as connection:
                await connection.run_sync(_configure)
        finally:
            await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_settings().url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
