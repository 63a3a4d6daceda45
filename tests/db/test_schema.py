"""The Alembic migrations and the models describe the same schema, and the migrations round-trip."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from grader.db.engine import make_engine
from grader.db.models import Base
from grader.db.schema import alembic_config, upgrade_to_head
from grader.settings import DatabaseSettings


def schema_drift(url: str) -> list:
    async def compare() -> list:
        engine = make_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                                  Base.metadata))
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def round_trip_and_compare(url: str) -> list:
    config = alembic_config(url)
    upgrade_to_head(url)
    command.downgrade(config, "base")
    upgrade_to_head(url)
    return schema_drift(url)


def test_schema__migrations_have_a_single_head():
    assert len(ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_heads()) == 1


def test_schema__migrations_match_the_models_on_sqlite(tmp_path):
    assert round_trip_and_compare(f"sqlite+aiosqlite:///{tmp_path}/schema.db") == []


@pytest.mark.postgres
def test_schema__migrations_match_the_models_on_postgresql(postgres_url):
    assert round_trip_and_compare(postgres_url) == []
