"""The per-student summary row follows the student's newest service result: through new pushes,
regrades and late-arriving older results; advisory results never change it."""

from __future__ import annotations

from sqlalchemy import select

from grader.api.stats_queries import class_stats_for
from grader.db.models import Job, JobKind, JobPriority, StudentSummary
from grader.db.summaries import failed_checks, record_service_result
from grader.queue import jobs
from grader.queue.jobs import JobOutput
from tests.api import factories
from tests.queue.test_queue import QUEUE


async def _grade(sessionmaker, submission_id: int, failing: tuple[str, ...], priority=JobPriority.PUSH) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(Job(submission_id=submission_id, kind=JobKind.GRADE, priority=priority))
    async with sessionmaker() as session, session.begin():
        claimed = await jobs.claim_next(session, "w", QUEUE)
        report = factories.grade_report(failing)
        await jobs.complete(session, claimed, JobOutput(report["score"], report["grade"], report, 1.0))


async def _summaries(sessionmaker) -> list[tuple[str, str, int, list[str]]]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(StudentSummary).order_by(StudentSummary.author_login))).all()
    return [(row.author_login, row.assignment_key, row.submission_id, [c["id"] for c in row.failed_checks])
            for row in rows]


async def test_summary__follows_new_pushes_and_regrades(sessionmaker):
    async with sessionmaker() as session, session.begin():
        older = await factories.submission(session, "alice", failing=None, assignment="hw1")
        newer = await factories.submission(session, "alice", failing=None, assignment="hw1")
        other = await factories.submission(session, "bob", failing=None, assignment="hw1")
    await _grade(sessionmaker, older.id, ("tests",))
    await _grade(sessionmaker, newer.id, ("lint",))
    await _grade(sessionmaker, other.id, ())
    assert await _summaries(sessionmaker) == [("alice", "hw1", newer.id, ["lint"]), ("bob", "hw1", other.id, [])]
    await _grade(sessionmaker, older.id, ("quiz",), JobPriority.REGRADE)  # a regrade is the newest result
    assert (await _summaries(sessionmaker))[0] == ("alice", "hw1", older.id, ["quiz"])


async def test_summary__an_older_result_stored_late_does_not_replace_a_newer_one(sessionmaker):
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "alice", failing=("tests",))
    async with sessionmaker() as session, session.begin():
        await record_service_result(session, sub.id, 1, 0.0, "C", factories.grade_report(("lint", "quiz")))
    assert await _summaries(sessionmaker) == [("alice", "", sub.id, ["tests"])]


async def test_summary__advisory_results_leave_it_alone(sessionmaker):
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "alice", failing=("tests",))
        await factories.result(session, sub, failing=("lint", "quiz"), advisory=True)
    assert await _summaries(sessionmaker) == [("alice", "", sub.id, ["tests"])]


def test_failed_checks__keeps_only_what_statistics_need_of_an_8_kb_report():
    report = factories.grade_report(("tests", "lint"))
    kept = failed_checks(report)
    assert sorted(check["id"] for check in kept) == ["lint", "tests"]
    assert set(kept[0]) == {"id", "title", "remediation"}
    assert failed_checks({"checks": "not a list"}) == []
    assert failed_checks({"checks": [{"id": 3, "passed": False}, "x"]}) == []


async def test_stats__count_each_student_once_at_their_newest_grade_across_assignments(sessionmaker):
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", number=1, failing=("tests",), assignment="hw1")
        await factories.submission(session, "alice", number=2, failing=("quiz",), assignment="hw2")
        await factories.submission(session, "bob", number=3, failing=("quiz",), assignment="hw1")
    async with sessionmaker() as session:
        every = await class_stats_for(session, ["S", "A", "B", "C"])
        first = await class_stats_for(session, ["S", "A", "B", "C"], assignment="hw1")
    assert every.students == 2
    assert [(check.id, check.failing_students) for check in every.checks] == [("quiz", 2)]
    assert first.students == 2
    assert sorted((check.id, check.failing_students) for check in first.checks) == [("quiz", 1), ("tests", 1)]
