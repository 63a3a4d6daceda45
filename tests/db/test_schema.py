"""The Alembic migrations and the models describe the same schema, and the migrations round-trip."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

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


def test_schema__course_migration_keeps_what_existing_rows_could_do(tmp_path):
    """Tokens made before scopes keep write (they could regrade), queued jobs the priority of a push,
    and each submission gets its newest service result's score and grade."""
    url = f"sqlite+aiosqlite:///{tmp_path}/upgrade.db"
    command.upgrade(alembic_config(url), "0002")
    statements = [
        "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES (1, 'old', 'h', '2026-01-01')",
        "INSERT INTO repositories (id, github_id, full_name, created_at) VALUES (1, 1, 'o/r', '2026-01-01')",
        "INSERT INTO pull_requests (id, repository_id, number, author_login, title, latest_head_sha, updated_at)"
        " VALUES (1, 1, 1, 'alice', '', 'a', '2026-01-01')",
        "INSERT INTO submissions (id, pull_request_id, head_sha, author_login, received_at, delivery_id)"
        " VALUES (1, 1, 'a', 'alice', '2026-01-01', ''), (2, 1, 'b', 'alice', '2026-01-02', '')",
        "INSERT INTO jobs (id, submission_id, kind, status, attempt, run_after, created_at, updated_at)"
        " VALUES (1, 1, 'grade', 'queued', 0, '2026-01-01', '2026-01-01', '2026-01-01')",
        "INSERT INTO results (id, submission_id, score, grade, report, advisory, duration_seconds, created_at) VALUES"
        " (1, 1, 50, 'C', '{}', 0, 1, '2026-01-01'), (2, 1, 91, 'S', '{}', 0, 1, '2026-01-01'),"
        " (3, 1, 10, 'C', '{}', 1, 1, '2026-01-01'), (4, 2, 10, 'C', '{}', 1, 1, '2026-01-01')",
    ]

    async def run(sql: list[str]) -> list:
        engine = make_engine(DatabaseSettings(url=url))
        try:
            async with engine.begin() as connection:
                return [(await connection.execute(text(item))).all() if item.startswith("SELECT")
                        else await connection.execute(text(item)) for item in sql]
        finally:
            await engine.dispose()

    asyncio.run(run(statements))
    upgrade_to_head(url)
    tokens, jobs, submissions, standings = asyncio.run(run([
        "SELECT name, scope FROM api_tokens", "SELECT id, priority FROM jobs",
        "SELECT id, score, grade, assignment_id FROM submissions ORDER BY id",
        "SELECT assignment_key, login_key, login, attempts, version > fresh_version, basis FROM standings"]))
    assert tokens == [("old", "write")]
    assert jobs == [(1, 10)]
    assert submissions == [(1, 91.0, "S", None), (2, None, None, None)]
    assert standings == [("", "alice", "alice", 2, 1, None)]  # stale: computed by the service
