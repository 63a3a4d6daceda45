"""Rows for API and dashboard tests: repositories, pull requests, submissions, results, jobs, tokens."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.tokens import create_token
from grader.db.models import Job, JobKind, JobStatus, PullRequest, Repository, Result, Submission, TokenScope
from grader.db.summaries import record_service_result
from grader.grading.report import Report, StepResult, StepStatus, TamperFinding
from grader.grading.result import CheckGrade, GradeResult, Remediation, grade_to_dict
from tests.feedback.factories import BANDS

LESSON_URL = "https://course.example/lessons/sqlalchemy-async"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_sha = itertools.count(1)

# check id -> (title, remediation section): the shape of the shipped rubric, small.
CHECKS = {
    "lint": ("Ruff finds nothing", "SA1 Async engine and sessions"),
    "tests": ("Your tests pass", "SA2 Testing with pytest-asyncio"),
    "migrations": ("Migrations go up and down", "SA4 Alembic migrations"),
    "quiz": ("Quiz at 80 % or more", "SA6 Theory"),
}


TAMPERED = TamperFinding(file="backend/tests/test_items.py", line=3, kind="coverage_api",
                         detail="imports coverage.py", checks=["tests", "coverage"])


def check(check_id: str, passed: bool, points: float = 25.0, needs_review: bool = False) -> CheckGrade:
    title, section = CHECKS[check_id]
    anchor = section.split()[0].lower()
    remediation = [] if passed else [Remediation(title=section, url=f"{LESSON_URL}#{anchor}")]
    return CheckGrade(id=check_id, title=title, passed=passed, points=points if passed else 0.0,
                      max_points=25.0, summary=f"{title}: {'yes' if passed else 'no'}",
                      remediation=remediation, needs_review=needs_review)


def grade_report(failing: tuple[str, ...] = (), tamper: list[TamperFinding] | None = None) -> dict[str, Any]:
    """A stored GradeResult where the named checks fail and the others pass; with `tamper`, the checks
    those findings put at risk are failed and marked "needs review"."""
    at_risk = {kind for item in tamper or [] for kind in item.checks}
    failing = (*failing, *sorted(at_risk & set(CHECKS)))
    checks = [check(check_id, check_id not in failing, needs_review=check_id in at_risk) for check_id in CHECKS]
    score = sum(item.points for item in checks)
    grade = "S" if score >= 90 else "A" if score >= 80 else "B" if score >= 70 else "C"
    steps = [StepResult(id="lint", status=StepStatus.OK, summary="ok", duration_seconds=1.5),
             StepResult(id="tests", status=StepStatus.FAILED if "tests" in failing else StepStatus.OK,
                        summary="pytest", duration_seconds=7.25)]
    report = Report(steps=steps, tool_versions={"ruff": "0.6.0"}, image_digest="sha256:" + "ab" * 32,
                    rubric_sha256="cd" * 32, started_at=START.isoformat(), tamper=list(tamper or []))
    graded = GradeResult(score=score, grade=grade, bands=BANDS, checks=checks,
                         next_grade=None if grade == "S" else "S",
                         to_next_grade=list(failing), rubric_id="sqlalchemy-async", rubric_version="1",
                         report=report)
    return grade_to_dict(graded)


async def repository(session: AsyncSession, full_name: str = "course/lesson-1") -> Repository:
    found = await session.scalar(select(Repository).where(Repository.full_name == full_name))
    if found is not None:
        return found
    repo = Repository(github_id=abs(hash(full_name)) % 10**9, full_name=full_name, created_at=START)
    session.add(repo)
    await session.flush()
    return repo


async def pull_request(session: AsyncSession, student: str, number: int = 1,
                       full_name: str = "course/lesson-1") -> PullRequest:
    repo = await repository(session, full_name)
    found = await session.scalar(
        select(PullRequest).where(PullRequest.repository_id == repo.id, PullRequest.number == number))
    if found is not None:
        return found
    pr = PullRequest(repository_id=repo.id, number=number, author_login=student,
                     title=f"Lesson 1 by {student}", latest_head_sha="0" * 40, updated_at=START)
    session.add(pr)
    await session.flush()
    return pr


async def submission(session: AsyncSession, student: str = "alice", *, number: int = 1,
                     full_name: str = "course/lesson-1", received_at: datetime | None = None,
                     failing: tuple[str, ...] | None = (), advisory: bool = False,
                     job_status: JobStatus = JobStatus.DONE, assignment: str | None = None) -> Submission:
    """A push with its grading job and, unless `failing` is None, its result."""
    pr = await pull_request(session, student, number, full_name)
    when = received_at or START + timedelta(minutes=next(_sha))
    sub = Submission(pull_request_id=pr.id, head_sha=f"{next(_sha):040x}", author_login=student,
                     received_at=when, assignment_id=assignment)
    session.add(sub)
    await session.flush()
    job = Job(submission_id=sub.id, kind=JobKind.GRADE, status=job_status, attempt=1, run_after=when,
              created_at=when, updated_at=when)
    session.add(job)
    await session.flush()
    if failing is not None:
        await result(session, sub, failing=failing, advisory=advisory, job_id=None if advisory else job.id,
                     created_at=when + timedelta(seconds=30))
    return sub


async def result(session: AsyncSession, sub: Submission, *, failing: tuple[str, ...] = (),
                 advisory: bool = False, job_id: int | None = None,
                 created_at: datetime | None = None, grade: str | None = None,
                 tamper: list[TamperFinding] | None = None) -> Result:
    """A result of the lesson's shape; `grade` names a band of another rubric (its score stays)."""
    report = grade_report(failing, tamper)
    if grade is not None:
        report = {**report, "grade": grade}
    row = Result(submission_id=sub.id, job_id=job_id, score=report["score"], grade=report["grade"],
                 report=report, advisory=advisory, duration_seconds=12.5,
                 created_at=created_at or sub.received_at)
    session.add(row)
    if not advisory:  # as the queue does: the newest service result is the submission's grade
        sub.score, sub.grade = row.score, row.grade
    await session.flush()
    if not advisory:  # ... and its student's summary row
        await record_service_result(session, sub.id, row.id, row.score, row.grade, report)
    return row


async def token(sessionmaker: async_sessionmaker[AsyncSession], name: str = "instructor",
                scope: TokenScope = TokenScope.WRITE) -> str:
    return await create_token(sessionmaker, name, scope)
