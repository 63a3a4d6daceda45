"""What the class needs: grade distribution, most-failed checks, most-needed lesson sections.

Counted over each student's latest service grade, then tallied in Python by `class_stats`, a pure
function of the failed checks. The grades come from the per-student summary rows (one statement, one
small row per student, whatever the history); only a gradebook narrowed to one repository reads each
student's newest report instead, as the summary rows are per assignment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.api.dto import CheckFailures, GradeCount, SectionNeed, Stats
from grader.api.gradebook_queries import latest_result_ids
from grader.db.models import Result, StudentSummary, Submission
from grader.grading.result import CheckGrade, Remediation


class FailedCheck(msgspec.Struct, frozen=True):
    id: str
    title: str
    remediation: list[Remediation] = []


@dataclass(frozen=True)
class LatestGrade:
    student: str
    grade: str
    failed: list[FailedCheck]


def _failed(raw: Any) -> list[FailedCheck]:
    """Stored failed checks; a shape that does not fit counts as none."""
    try:
        return msgspec.convert(raw or [], list[FailedCheck])
    except msgspec.ValidationError:
        return []


def _failed_of_checks(raw: Any) -> list[FailedCheck]:
    """The failed ones among a report's stored checks; a report of a foreign shape counts as having none."""
    try:
        checks = msgspec.convert(raw or [], list[CheckGrade])
    except msgspec.ValidationError:
        return []
    return [FailedCheck(check.id, check.title, check.remediation) for check in checks if not check.passed]


async def _from_summaries(session: AsyncSession, assignment: str | None) -> list[LatestGrade]:
    statement = select(StudentSummary.author_login, StudentSummary.result_id, StudentSummary.grade,
                       StudentSummary.failed_checks)
    if assignment is not None:
        statement = statement.where(StudentSummary.assignment_key == assignment)
    newest: dict[str, Any] = {}
    for row in (await session.execute(statement)).all():  # across assignments: the student's newest
        if row.author_login not in newest or newest[row.author_login].result_id < row.result_id:
            newest[row.author_login] = row
    return [LatestGrade(login, row.grade, _failed(row.failed_checks)) for login, row in newest.items()]


async def latest_grades(session: AsyncSession, repository: str | None = None,
                        assignment: str | None = None) -> list[LatestGrade]:
    if repository is None:
        return await _from_summaries(session, assignment)
    # Only the checks leave the database, not the whole report (lint findings, test lists, ...).
    rows = (await session.execute(
        select(Submission.author_login.label("login"), Result.grade, Result.report["checks"].label("checks"))
        .join(Result, Result.submission_id == Submission.id)
        .where(Result.id.in_(latest_result_ids(repository, assignment=assignment)))
    )).all()
    return [LatestGrade(row.login, row.grade, _failed_of_checks(row.checks)) for row in rows]


def grade_distribution(grades: Iterable[str], bands: Sequence[str]) -> list[GradeCount]:
    """Every band of the rubric, best first, then any other grade found (e.g. of an older rubric)."""
    counts = Counter(grades)
    ordered = [*bands, *sorted(set(counts) - set(bands))]
    return [GradeCount(grade=grade, students=counts.get(grade, 0)) for grade in ordered]


def _most_common(counter: Counter[str]) -> Iterable[tuple[str, int]]:
    # Most students first; ties in a stable, readable order.
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def class_stats(latest: list[LatestGrade], bands: Sequence[str]) -> Stats:
    failing: Counter[str] = Counter()
    sent_to: Counter[str] = Counter()
    check_titles: dict[str, str] = {}
    section_titles: dict[str, str] = {}
    for item in latest:
        urls: set[str] = set()
        for check in item.failed:
            failing[check.id] += 1
            check_titles.setdefault(check.id, check.title)
            for link in check.remediation:
                urls.add(link.url)
                section_titles.setdefault(link.url, link.title)
        sent_to.update(urls)
    return Stats(
        students=len(latest), grade_distribution=grade_distribution((item.grade for item in latest), bands),
        checks=[CheckFailures(id=check_id, title=check_titles[check_id], failing_students=count)
                for check_id, count in _most_common(failing)],
        sections=[SectionNeed(title=section_titles[url], url=url, students=count)
                  for url, count in _most_common(sent_to)],
    )


async def class_stats_for(session: AsyncSession, bands: Sequence[str], repository: str | None = None,
                          assignment: str | None = None) -> Stats:
    return class_stats(await latest_grades(session, repository, assignment), bands)
