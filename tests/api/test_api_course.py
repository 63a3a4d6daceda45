"""The course through the API: assignments, roster, the gradebook of every roster student (graded, late,
pending, missing), exports for Canvas and Moodle, overrides with their audit trail, extensions, regrades."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.actions import grant_extension
from grader.api.csv_export import canvas_csv, gradebook_csv, moodle_csv
from grader.api.dto import Gradebook, GradebookRow
from grader.app import create_app
from grader.commands.course import upsert_roster
from grader.course.roster import parse_roster
from grader.db.models import Job, JobKind, JobPriority, JobStatus, Submission, TokenScope
from tests.api import factories
from tests.api.test_api_statement_count import counting_statements
from tests.conftest import course_rubrics, make_settings, sample_course

Sessionmaker = async_sessionmaker[AsyncSession]
DEADLINE = sample_course().assignments[0].deadline
assert DEADLINE is not None
ROSTER = """github,student_id,name,email
alice,S1,Alice Archer,alice@example.org
bob,S2,Bob Baker,bob@example.org
carol,S3,Carol Cole,carol@example.org
dave,S4,Dave Dunn,dave@example.org
erin,S5,Erin Eve,erin@example.org
"""


@pytest.fixture
async def course_client(database_url: str, sessionmaker: Sessionmaker) -> AsyncIterator[AsyncTestClient]:
    app = create_app(make_settings(database_url, course=sample_course()), course_rubrics(), workers=False)
    async with AsyncTestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {await factories.token(sessionmaker)}"
        yield client


async def seed(sessionmaker: Sessionmaker) -> dict[str, int]:
    """hw1: alice on time (B then S), bob late by 2 days (S → 80 % of 100), carol on time but not graded,
    mallory (not on the roster) on time; dave and erin never pushed. hw2: dave passes."""
    parsed = parse_roster(ROSTER)
    await upsert_roster(sessionmaker, parsed.entries, parsed.rejected)
    before, after = DEADLINE - timedelta(hours=1), DEADLINE + timedelta(days=1, hours=2)
    async with sessionmaker() as session, session.begin():
        alice_1 = await factories.submission(session, "alice", number=1, full_name="course-org/hw1-alice",
                                             received_at=before - timedelta(hours=5), failing=("tests",),
                                             assignment="hw1")
        alice_2 = await factories.submission(session, "alice", number=1, full_name="course-org/hw1-alice",
                                             received_at=before, assignment="hw1")
        bob = await factories.submission(session, "bob", number=2, full_name="course-org/hw1-bob",
                                         received_at=after, assignment="hw1")
        await factories.submission(session, "carol", number=3, full_name="course-org/hw1-carol", received_at=before,
                                   failing=None, job_status=JobStatus.QUEUED, assignment="hw1")
        await factories.submission(session, "mallory", number=4, full_name="course-org/hw1-mallory",
                                   received_at=before, failing=("quiz",), assignment="hw1")
        dave = await factories.submission(session, "dave", number=5, full_name="course-org/hw2-dave",
                                          received_at=after, assignment="hw2", failing=None)
        await factories.result(session, dave, grade="pass")
        return {"alice_1": alice_1.id, "alice_2": alice_2.id, "bob": bob.id, "dave": dave.id}


async def rows_of(client: AsyncTestClient, assignment: str) -> dict[str, dict]:
    response = await client.get(f"/api/gradebook?assignment={assignment}")
    assert response.status_code == 200, response.text
    return {row["student"]: row for row in response.json()["rows"]}


async def test_assignments_and_roster__list_what_the_course_file_and_the_import_hold(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    await seed(sessionmaker)
    listing = (await course_client.get("/api/assignments")).json()
    assert listing["course"] == "db-course-2026"
    hw1, hw2 = listing["assignments"]
    assert (hw1["id"], hw1["bands"], hw1["students"], hw1["submissions"]) == ("hw1", ["S", "A", "B", "C"], 4, 5)
    assert (hw2["id"], hw2["bands"], hw2["rubric_id"]) == ("hw2", ["pass", "fail"], "queries")
    assert hw1["deadline"] == "2026-12-10T23:59:00+03:00"
    assert (await course_client.get("/api/assignments/hw9")).status_code == 404
    roster = (await course_client.get("/api/roster")).json()["students"]
    assert [(item["github"], item["student_id"]) for item in roster] == [
        ("alice", "S1"), ("bob", "S2"), ("carol", "S3"), ("dave", "S4"), ("erin", "S5")]


async def test_gradebook__every_roster_student_with_status_late_penalty_and_flags(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    await seed(sessionmaker)
    rows = await rows_of(course_client, "hw1")
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin", "mallory"]
    assert {name: row["status"] for name, row in rows.items()} == {
        "alice": "graded", "bob": "late", "carol": "pending", "dave": "missing", "erin": "missing",
        "mallory": "graded"}
    alice, bob = rows["alice"], rows["bob"]
    assert (alice["score"], alice["grade"], alice["attempts"], alice["student_id"]) == (100.0, "S", 2, "S1")
    assert (bob["score"], bob["grade"], bob["late_days"]) == (80.0, "A", 2)
    assert (bob["score_at_deadline"], bob["latest_score"]) == (None, 80.0)
    assert rows["mallory"]["on_roster"] is False
    assert rows["erin"]["last_activity"] is None
    hw2 = await rows_of(course_client, "hw2")
    assert (hw2["dave"]["grade"], hw2["dave"]["status"], hw2["dave"]["late_days"]) == ("pass", "graded", 0)
    assert hw2["alice"]["status"] == "missing"


async def test_gradebook__exports_our_csv_canvas_and_moodle_with_roster_students_only(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    await seed(sessionmaker)
    plain = await course_client.get("/api/gradebook?assignment=hw1&format=csv")
    ours = list(csv.DictReader(io.StringIO(plain.text)))
    assert [(row["github"], row["status"], row["score"], row["late_days"]) for row in ours][:3] == [
        ("alice", "graded", "100", "0"), ("bob", "late", "80", "2"), ("carol", "pending", "", "0")]
    canvas = await course_client.get("/api/gradebook?assignment=hw1&format=canvas")
    assert 'filename="hw1-canvas.csv"' in canvas.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(canvas.text)))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "SQLAlchemy async"]
    assert table[1:] == [["Alice Archer", "", "S1", "", "", "100"], ["Bob Baker", "", "S2", "", "", "80"],
                         ["Carol Cole", "", "S3", "", "", ""], ["Dave Dunn", "", "S4", "", "", ""],
                         ["Erin Eve", "", "S5", "", "", ""]]
    moodle_export = await course_client.get("/api/gradebook?assignment=hw1&format=moodle")
    moodle = list(csv.reader(io.StringIO(moodle_export.text)))
    assert moodle[0] == ["ID number", "Email address", "Full name", "SQLAlchemy async", "Feedback"]
    assert moodle[2] == ["S2", "bob@example.org", "Bob Baker", "80", "2 day(s) late"]


async def test_override__needs_write_scope_is_audited_survives_a_regrade_and_queues_the_comment(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    ids = await seed(sessionmaker)
    reader = await factories.token(sessionmaker, "ta-read", TokenScope.READ)
    body = {"score": 95, "note": "The runner was down on the deadline day."}
    refused = await course_client.post(f"/api/submissions/{ids['bob']}/override", json=body,
                                       headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    assert "--scope write" in refused.json()["error"]
    made = await course_client.post(f"/api/submissions/{ids['bob']}/override", json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["grade"], made.json()["by"]) == ("S", "instructor")
    second = await course_client.post(f"/api/submissions/{ids['bob']}/override", json={"score": 90, "note": "fix"})
    assert second.status_code == 201
    regrade = await course_client.post("/api/assignments/hw1/regrade")
    assert regrade.status_code == 202
    assert regrade.json() == {"assignment": "hw1", "submissions": 4, "queued": 3, "already_queued": 1}
    again = await course_client.post("/api/assignments/hw1/regrade", json={"student": "bob"})
    assert again.json() == {"assignment": "hw1", "submissions": 1, "queued": 0, "already_queued": 1}

    detail = (await course_client.get(f"/api/submissions/{ids['bob']}")).json()
    assert [item["score"] for item in detail["overrides"]] == [90.0, 95.0]
    assert (detail["override"]["note"], detail["shown_score"], detail["shown_grade"]) == ("fix", 90.0, "S")
    assert detail["late"]["days"] == 2
    bob = (await rows_of(course_client, "hw1"))["bob"]
    assert (bob["score"], bob["overridden"], bob["status"]) == (90.0, True, "graded")
    async with sessionmaker() as session:
        jobs = list(await session.scalars(select(Job).where(Job.status == JobStatus.QUEUED)))
    assert sum(job.kind is JobKind.PUBLISH and job.submission_id == ids["bob"] for job in jobs) == 2
    regrades = [job for job in jobs if job.kind is JobKind.GRADE and job.priority == JobPriority.REGRADE]
    assert sorted(job.submission_id for job in regrades) == sorted([ids["alice_2"], ids["bob"], ids["bob"] + 2])


async def test_extension__moves_the_students_deadline_and_lifts_the_penalty(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    ids = await seed(sessionmaker)
    response = await course_client.post("/api/assignments/hw1/extensions",
                                        json={"student": "bob", "until": "2026-12-13"})
    assert response.status_code == 201, response.text
    assert response.json()["until"].startswith("2026-12-13T23:59:59+03:00")
    bob = (await rows_of(course_client, "hw1"))["bob"]
    assert (bob["status"], bob["score"], bob["late_days"], bob["score_at_deadline"]) == ("graded", 100.0, 0, 100.0)
    detail = (await course_client.get("/api/assignments/hw1")).json()
    assert [(item["student"], item["granted_by"]) for item in detail["extensions"]] == [("bob", "instructor")]
    assert (await course_client.get(f"/api/submissions/{ids['bob']}")).json()["late"] is None
    bad = await course_client.post("/api/assignments/hw1/extensions", json={"student": "bob", "until": "soon"})
    assert bad.status_code == 400


async def test_gradebook__statement_count_does_not_grow_with_the_roster(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    await seed(sessionmaker)
    with counting_statements(course_client) as few:
        assert (await course_client.get("/api/gradebook?assignment=hw1")).status_code == 200
    extra = "\n".join(f"student-{index},X{index},Student {index}," for index in range(40))
    parsed = parse_roster("github,student_id,name,email\n" + extra)
    await upsert_roster(sessionmaker, parsed.entries, parsed.rejected)
    async with sessionmaker() as session, session.begin():
        for index in range(10):
            await factories.submission(session, f"student-{index}", number=100 + index, assignment="hw1",
                                       full_name=f"course-org/hw1-student-{index}")
    with counting_statements(course_client) as many:
        assert (await course_client.get("/api/gradebook?assignment=hw1&format=canvas")).status_code == 200
    assert len(few) == len(many) <= 9  # 3 fewer once the service stored the standings (test_standings)


@pytest.mark.parametrize(("policy", "alice", "bob"), [
    ("best", (100.0, 100.0, 81.0, 0), (90.0, 90.0, 90.0, 0)),
    ("last", (81.0, 50.0, 81.0, 1), (90.0, 90.0, 90.0, 0)),
])
async def test_gradebook__policy_picks_among_on_time_late_and_extended_pushes(
        database_url: str, sessionmaker: Sessionmaker, policy: str, alice: tuple, bob: tuple) -> None:
    """alice: on time 100 then 50, then 90 a day late (81); bob: 90 a day after the deadline, within his
    extension. (score, score at the deadline, latest, late days) per policy."""
    course = dataclasses.replace(sample_course(), grade_policy=policy)
    hw1 = course.assignments[0]
    async with sessionmaker() as session, session.begin():
        for minutes, failing in ((-90, ()), (-60, ("tests", "quiz"))):
            await factories.submission(session, "alice", received_at=DEADLINE + timedelta(minutes=minutes),
                                       failing=failing, assignment="hw1")
        await factories.result(session, await factories.submission(
            session, "alice", received_at=DEADLINE + timedelta(hours=3), failing=None, assignment="hw1"),
            failing=("lint",), created_at=DEADLINE)
        await factories.submission(session, "bob", number=2, received_at=DEADLINE + timedelta(hours=20),
                                   failing=("lint",), assignment="hw1")
        await grant_extension(session, hw1, "bob", DEADLINE + timedelta(days=2), "test")
    async with sessionmaker() as session, session.begin():  # 90 is what a lint failure scores here
        await session.execute(update(Submission).where(Submission.author_login == "bob").values(score=90.0))
        await session.execute(update(Submission).where(Submission.author_login == "alice",
                                                       Submission.score == 75.0).values(score=90.0))
    app = create_app(make_settings(database_url, course=course), course_rubrics(), workers=False)
    async with AsyncTestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {await factories.token(sessionmaker)}"
        rows = await rows_of(client, "hw1")
    for name, expected in (("alice", alice), ("bob", bob)):
        row = rows[name]
        assert (row["score"], row["score_at_deadline"], row["latest_score"], row["late_days"]) == expected, name


def test_exports__a_cell_a_spreadsheet_would_run_is_kept_as_text() -> None:
    row = GradebookRow(student="mallory", student_id="=1+1", name='=HYPERLINK("http://x")', email="@x",
                       on_roster=True, status="graded", score=50.0, grade="C", late_days=0, overridden=False,
                       score_at_deadline=50.0, grade_at_deadline="C", latest_score=50.0, latest_grade="C",
                       best_score=50.0, best_grade="C", attempts=1, last_activity=None)
    book = Gradebook(assignment="hw1", title="T", deadline=None, grade_policy="best", rows=[row])
    for text in (gradebook_csv(book), canvas_csv(book, "-T"), moodle_csv(book, "+T")):
        cells = [cell for line in csv.reader(io.StringIO(text)) for cell in line]
        assert not any(cell[:1] in "=+-@" and cell for cell in cells), cells


async def test_gradebook__the_best_push_keeps_its_own_grade_when_a_requirement_held_it_back(
        course_client: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    """alice: 95 points on time but B (a required check failed), then 91 points and S; her best push is
    the 95, and its grade is the B it earned, not the S its score alone would give."""
    async with sessionmaker() as session, session.begin():
        held_back = await factories.submission(session, "alice", received_at=DEADLINE - timedelta(hours=2),
                                               assignment="hw1")
        newest = await factories.submission(session, "alice", received_at=DEADLINE - timedelta(hours=1),
                                            assignment="hw1")
        await session.execute(update(Submission).where(Submission.id == held_back.id).values(score=95.0, grade="B"))
        await session.execute(update(Submission).where(Submission.id == newest.id).values(score=91.0, grade="S"))
    row = (await rows_of(course_client, "hw1"))["alice"]
    assert (row["best_score"], row["best_grade"]) == (95.0, "B")
    assert (row["score"], row["grade"], row["grade_at_deadline"]) == (95.0, "B", "B")
    assert (row["latest_score"], row["latest_grade"]) == (91.0, "S")
