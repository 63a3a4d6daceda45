"""`/api/submissions`: filters, keyset pages, the detail view, regrade."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.db.models import Job, JobStatus
from tests.api import factories

Sessionmaker = async_sessionmaker[AsyncSession]


async def _seed_class(sessionmaker: Sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session, session.begin():
        alice = await factories.submission(session, "alice", failing=("tests",))
        bob = await factories.submission(session, "bob", number=2, full_name="course/lesson-2")
        carol = await factories.submission(session, "carol", number=3, failing=None,
                                           job_status=JobStatus.QUEUED)
        return {"alice": alice.id, "bob": bob.id, "carol": carol.id}


async def test_submissions__newest_first_with_latest_result_and_job_status(
        client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    ids = await _seed_class(sessionmaker)
    response = await client.get("/api/submissions")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [ids["carol"], ids["bob"], ids["alice"]]
    by_student = {item["student"]: item for item in items}
    assert by_student["alice"]["result"]["grade"] == "B"
    assert by_student["alice"]["result"]["score"] == 75.0
    assert by_student["bob"]["repository"] == "course/lesson-2"
    assert by_student["carol"]["result"] is None
    assert by_student["carol"]["job_status"] == "queued"


async def test_submissions__filters_narrow_the_list(client: AsyncTestClient,
                                                    sessionmaker: Sessionmaker) -> None:
    ids = await _seed_class(sessionmaker)
    cases = {
        "student=alice": [ids["alice"]],
        "repository=course/lesson-2": [ids["bob"]],
        "pr=3": [ids["carol"]],
        "grade=S": [ids["bob"]],
        "grade=B&student=bob": [],
    }
    for query, expected in cases.items():
        response = await client.get(f"/api/submissions?{query}")
        assert response.status_code == 200, query
        assert [item["id"] for item in response.json()["items"]] == expected, query


async def test_submissions__since_keeps_only_later_pushes(client: AsyncTestClient,
                                                          sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "early", received_at=factories.START)
        late = await factories.submission(session, "late", received_at=factories.START + timedelta(days=2))
    response = await client.get("/api/submissions", params={"since": "2026-03-03T00:00:00Z"})
    assert [item["id"] for item in response.json()["items"]] == [late.id]
    naive = await client.get("/api/submissions", params={"since": "2026-03-03T00:00:00"})
    assert [item["id"] for item in naive.json()["items"]] == [late.id]


async def test_submissions__cursor_walks_every_row_once(client: AsyncTestClient,
                                                        sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        created = [(await factories.submission(session, f"s{index}")).id for index in range(7)]
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/submissions", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)


async def test_submissions__advisory_result_is_flagged_apart(client: AsyncTestClient,
                                                             sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "dave", failing=None, job_status=JobStatus.QUEUED)
        await factories.result(session, sub, advisory=True)
    item = (await client.get("/api/submissions")).json()["items"][0]
    assert item["result"] is None
    assert item["advisory_result"]["advisory"] is True
    assert item["advisory_result"]["grade"] == "S"
    assert (await client.get("/api/submissions?grade=S")).json()["items"] == []


async def test_submission_detail__checks_remediation_timings_provenance(
        client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    ids = await _seed_class(sessionmaker)
    response = await client.get(f"/api/submissions/{ids['alice']}")
    assert response.status_code == 200
    body = response.json()
    result = body["result"]
    failed = [check for check in result["checks"] if not check["passed"]]
    assert [check["id"] for check in failed] == ["tests"]
    assert failed[0]["remediation"][0]["url"].endswith("#sa2")
    assert {timing["id"]: timing["duration_seconds"] for timing in result["timings"]} == {"lint": 1.5,
                                                                                         "tests": 7.25}
    assert result["provenance"]["rubric_id"] == "sqlalchemy-async"
    assert result["provenance"]["image_digest"].startswith("sha256:")
    assert result["report"]["score"] == 75.0
    assert body["pull_request_title"] == "Lesson 1 by alice"
    assert [job["status"] for job in body["jobs"]] == ["done"]


async def test_submission_detail__the_diff_against_the_previous_graded_push(
        client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        first = await factories.submission(session, "dave", number=7, failing=("tests", "lint"))
        other_pr = await factories.submission(session, "dave", number=8, failing=())  # not this pull request's
        second = await factories.submission(session, "dave", number=7, failing=("lint", "quiz"))

    body = (await client.get(f"/api/submissions/{second.id}")).json()
    assert (await client.get(f"/api/submissions/{first.id}")).json()["since_last"] is None
    assert (await client.get(f"/api/submissions/{other_pr.id}")).json()["since_last"] is None

    diff = body["since_last"]
    assert (diff["previous_sha"], diff["previous_score"], diff["score_delta"]) == (first.head_sha, 50.0, 0.0)
    assert {change["id"]: (change["status"], change["points_delta"]) for change in diff["checks"]} == {
        "lint": ("still_failing", 0.0), "tests": ("fixed", 25.0), "migrations": ("still_passing", 0.0),
        "quiz": ("regressed", -25.0)}


async def test_submission_detail__tamper_findings_and_the_checks_they_hold_for_review(
        client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "trudy", failing=None)
        await factories.result(session, sub, tamper=[factories.TAMPERED])
    result = (await client.get(f"/api/submissions/{sub.id}")).json()["result"]
    assert result["tamper"] == [{"file": "backend/tests/test_items.py", "line": 3, "kind": "coverage_api",
                                 "detail": "imports coverage.py", "name": "", "checks": ["tests", "coverage"]}]
    assert [(check["id"], check["passed"]) for check in result["checks"] if check["needs_review"]] == [
        ("tests", False)]


async def test_submission_detail__unknown_id_is_404(client: AsyncTestClient) -> None:
    response = await client.get("/api/submissions/999999")
    assert response.status_code == 404
    assert response.json() == {"error": "No submission has id 999999.", "status_code": 404}


async def test_regrade__queues_one_job_and_reuses_it_until_it_runs(client: AsyncTestClient,
                                                                  sessionmaker: Sessionmaker) -> None:
    ids = await _seed_class(sessionmaker)
    first = await client.post(f"/api/submissions/{ids['alice']}/regrade")
    again = await client.post(f"/api/submissions/{ids['alice']}/regrade")
    assert first.status_code == again.status_code == 202
    assert first.json()["created"] is True
    assert again.json()["created"] is False
    assert first.json()["job"]["id"] == again.json()["job"]["id"]
    assert first.json()["job"]["status"] == "queued"
    async with sessionmaker() as session:
        queued = await session.scalar(select(func.count(Job.id)).where(Job.submission_id == ids["alice"],
                                                                      Job.status == JobStatus.QUEUED))
    assert queued == 1


async def test_regrade__unknown_submission_is_404(client: AsyncTestClient) -> None:
    response = await client.post("/api/submissions/424242/regrade")
    assert response.status_code == 404
