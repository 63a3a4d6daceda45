"""The OpenAPI schema as a contract: generated requests to every `/api` operation, no 5xx, every response
conforming to its documented status, content type and schema; valid requests accepted, invalid ones
rejected (positive and negative generation).

The examples are bounded (see `EXAMPLES`) so the whole module runs in well under two minutes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import negative_data_rejection
from sqlalchemy import text

from grader.app import create_app
from grader.db.engine import make_engine, make_sessionmaker
from grader.db.models import Base, JobStatus
from grader.settings import DatabaseSettings
from tests.api import factories
from tests.conftest import course_rubrics, make_settings, sample_course

EXAMPLES = 50
_token: dict[str, str] = {}


async def _fresh_data(url: str) -> str:
    """Empty the tables, add a few students (so that ids 1-3 and login alice exist), return a token."""
    engine = make_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT 1"))
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await factories.submission(session, "alice", failing=("tests",), assignment="hw1")
            await factories.submission(session, "bob", number=2, assignment="hw1")
            await factories.submission(session, "carol", number=3, failing=None, job_status=JobStatus.QUEUED,
                                       assignment="hw2")
        return await factories.token(sessionmaker, "schemathesis")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def api_schema(database_url: str) -> Iterator[schemathesis.BaseSchema]:
    _token["value"] = asyncio.run(_fresh_data(database_url))
    app = create_app(make_settings(database_url, course=sample_course()), course_rubrics(), workers=False)
    try:
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    finally:
        asgi.shutdown_lifespans()


API_PATH = re.compile(r"^/api/(?!workflow-reports)")


def _check_operation(operation: Any, token: str, mode: schemathesis.GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)

    # Negative cases still must not crash the service or break the schema; but the API, like most, ignores
    # unknown query parameters, and the token is always added here, so "must be rejected" does not apply.
    excluded = [negative_data_rejection] if mode is schemathesis.GenerationMode.NEGATIVE else []

    check()


def test_api__conforms_to_its_openapi_schema(api_schema: schemathesis.BaseSchema) -> None:
    # One loop rather than schemathesis' pytest plugin: the operations come from a fixture's app.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    checked = [operation for operation in operations if API_PATH.match(operation.path)]
    assert len(checked) == 13, [operation.label for operation in checked]
    for operation in checked:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _check_operation(operation, _token["value"], mode)
