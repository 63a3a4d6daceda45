"""`/api/gradebook`, `/api/students/{login}`, `/api/stats`, `/api/jobs`: what instructors read weekly."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.db.models import JobStatus
from tests.api import factories

Sessionmaker = async_sessionmaker[AsyncSession]
T0 = factories.START


async def _seed_history(sessionmaker: Sessionmaker) -> None:
    """alice: C, then S, then B (latest B, best S) plus a later advisory S; bob: one S; carol: ungraded."""
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", received_at=T0, failing=("tests", "migrations"))
        await factories.submission(session, "alice", received_at=T0 + timedelta(hours=1))
        last = await factories.submission(session, "alice", number=2, received_at=T0 + timedelta(hours=2),
                                          failing=("quiz",))
        await factories.result(session, last, advisory=True, created_at=T0 + timedelta(hours=3))
        await factories.submission(session, "bob", number=3, received_at=T0 + timedelta(hours=4))
        await factories.submission(session, "carol", number=4, received_at=T0 + timedelta(hours=5),
                                   failing=None, job_status=JobStatus.QUEUED)


async def test_gradebook__latest_and_best_ignore_advisory_results(client: AsyncTestClient,
                                                                  sessionmaker: Sessionmaker) -> None:
    await _seed_history(sessionmaker)
    response = await client.get("/api/gradebook")
    assert response.status_code == 200
    rows = {row["student"]: row for row in response.json()["rows"]}
    assert list(rows) == ["alice", "bob", "carol"]
    alice = rows["alice"]
    assert (alice["latest_grade"], alice["latest_score"]) == ("B", 75.0)
    assert (alice["best_grade"], alice["best_score"]) == ("S", 100.0)
    assert alice["attempts"] == 3
    assert alice["last_activity"].startswith("2026-03-02T11:00:00")
    assert rows["carol"]["latest_grade"] is None
    assert rows["carol"]["attempts"] == 1


async def test_gradebook__csv_by_accept_header_or_format_parameter(client: AsyncTestClient,
                                                                   sessionmaker: Sessionmaker) -> None:
    await _seed_history(sessionmaker)
    by_header = await client.get("/api/gradebook", headers={"Accept": "text/csv"})
    by_query = await client.get("/api/gradebook?format=csv")
    assert by_header.text == by_query.text
    assert by_header.headers["content-type"] == "text/csv; charset=utf-8"  # once, not repeated
    assert "gradebook.csv" in by_header.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    assert [row["github"] for row in rows] == ["alice", "bob", "carol"]
    assert rows[0]["latest_grade"] == "B"
    assert rows[0]["best_score"] == "100"
    assert (rows[0]["score"], rows[0]["grade"], rows[0]["status"]) == ("100", "S", "graded")
    assert (rows[2]["latest_grade"], rows[2]["status"]) == ("", "pending")
    assert rows[2]["attempts"] == "1"
    explicit_json = await client.get("/api/gradebook?format=json", headers={"Accept": "text/csv"})
    assert explicit_json.headers["content-type"].startswith("application/json")


async def test_gradebook__repository_filter(client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", full_name="course/lesson-1")
        await factories.submission(session, "bob", number=2, full_name="course/lesson-2", failing=("lint",))
    rows = (await client.get("/api/gradebook?repository=course/lesson-2")).json()["rows"]
    assert [(row["student"], row["latest_grade"]) for row in rows] == [("bob", "B")]


async def test_student__history_across_prs_with_latest_and_best(client: AsyncTestClient,
                                                                sessionmaker: Sessionmaker) -> None:
    await _seed_history(sessionmaker)
    response = await client.get("/api/students/alice")
    assert response.status_code == 200
    body = response.json()
    assert body["latest"]["grade"] == "B"
    assert body["best"]["grade"] == "S"
    assert body["attempts"] == 3
    assert [item["pull_request"] for item in body["submissions"]] == [2, 1, 1]
    assert body["submissions"][0]["advisory_result"]["grade"] == "S"


async def test_student__unknown_login_is_404(client: AsyncTestClient) -> None:
    response = await client.get("/api/students/nobody")
    assert response.status_code == 404
    assert response.json()["error"] == "No submission is by nobody."


async def test_stats__distribution_failed_checks_and_sections(client: AsyncTestClient,
                                                              sessionmaker: Sessionmaker) -> None:
    await _seed_history(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "dave", number=5, failing=("quiz", "tests"))
    stats = (await client.get("/api/stats")).json()
    assert stats["students"] == 3
    assert {item["grade"]: item["students"] for item in stats["grade_distribution"]} == {
        "S": 1, "A": 0, "B": 1, "C": 1}
    assert [(item["id"], item["failing_students"]) for item in stats["checks"]] == [("quiz", 2), ("tests", 1)]
    sections = {item["title"]: item["students"] for item in stats["sections"]}
    assert sections == {"SA6 Theory": 2, "SA2 Testing with pytest-asyncio": 1}


async def test_jobs__filter_by_status_and_page(client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    await _seed_history(sessionmaker)
    queued = (await client.get("/api/jobs?status=queued")).json()
    assert [job["status"] for job in queued["items"]] == ["queued"]
    first = (await client.get("/api/jobs?limit=3")).json()
    second = (await client.get(f"/api/jobs?limit=3&cursor={first['next_cursor']}")).json()
    ids = [job["id"] for job in first["items"] + second["items"]]
    assert len(ids) == 5
    assert ids == sorted(ids, reverse=True)
    assert second["next_cursor"] is None
