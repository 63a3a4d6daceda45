"""Every `/api` route needs an active bearer token; bad parameters are 400s that name the parameter."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.tokens import revoke_token
from tests.api import factories

API_ROUTES = [
    ("GET", "/api/submissions"),
    ("GET", "/api/submissions/1"),
    ("POST", "/api/submissions/1/regrade"),
    ("GET", "/api/students/alice"),
    ("GET", "/api/gradebook"),
    ("GET", "/api/gradebook?format=csv"),
    ("GET", "/api/stats"),
    ("GET", "/api/jobs"),
]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer grd_not-a-real-token", "Basic dXNlcjpwYXNz"])
async def test_api__without_a_valid_token_every_route_is_401(anonymous: AsyncTestClient,
                                                             header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in API_ROUTES:
        response = await anonymous.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json()["status_code"] == 401
        assert "grader token create" in response.json()["error"]
        assert response.headers["www-authenticate"] == "Bearer"


async def test_api__a_revoked_token_stops_working(anonymous: AsyncTestClient,
                                                  sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    raw = await factories.token(sessionmaker, "ta-2026")
    headers = {"Authorization": f"Bearer {raw}"}
    assert (await anonymous.get("/api/gradebook", headers=headers)).status_code == 200
    assert await revoke_token(sessionmaker, "ta-2026") is True
    assert (await anonymous.get("/api/gradebook", headers=headers)).status_code == 401


async def test_api__token_check_comes_before_parameter_checks(anonymous: AsyncTestClient) -> None:
    assert (await anonymous.get("/api/submissions?limit=oops")).status_code == 401


@pytest.mark.parametrize(("query", "message"), [
    ("/api/submissions?limit=0", "limit must be an integer from 1 to 200."),
    ("/api/submissions?limit=201", "limit must be an integer from 1 to 200."),
    ("/api/submissions?limit=ten", "limit must be an integer from 1 to 200."),
    ("/api/submissions?grade=S%20or%201", "grade must be a grade band of the rubric."),
    ("/api/submissions?since=yesterday", "since must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z."),
    ("/api/submissions?pr=-1", "pr must be a pull request number (a positive integer)."),
    ("/api/submissions?repository=no-slash", "repository must be a repository full name such as owner/name."),
    ("/api/submissions?cursor=not-a-cursor", "cursor must be the next_cursor value of a previous page."),
    ("/api/jobs?status=sleeping", "status must be one of queued, running, done, failed, cancelled."),
    ("/api/gradebook?format=xlsx", "format must be one of json, csv, canvas, moodle."),
    ("/api/students/bad%20login", "login must be a GitHub login."),
    ("/api/submissions/0", "submission_id must be a submission id (a positive integer)."),
])
async def test_api__bad_parameter_is_400_naming_it(client: AsyncTestClient, query: str, message: str) -> None:
    response = await client.get(query)
    assert response.status_code == 400
    assert response.json() == {"error": message, "status_code": 400}
