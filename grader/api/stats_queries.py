"""What the class needs: grade distribution, most-failed checks, most-needed lesson sections.

Counted over each student's latest service grade, then tallied in Python by `class_stats`, a pure
function of the failed checks. The grades come from the per-student summary rows, grouped by the
database into (grade, failed checks, number of students): one statement whatever the history, and
Python decodes each distinct set of failed checks once. Only statistics narrowed to one repository
read each student's newest report instead, as the summary rows are per assignment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Text, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from grader.api.dto import CheckFailures, GradeCount, SectionNeed, Stats
from grader.api.gradebook_queries import latest_result_ids
from grader.db.models import Result, StudentSummary, Submission
from grader.grading.result import CheckGrade, Remediation


class FailedCheck(msgspec.Struct, frozen=True):
    id: str
    title: str
    remediation: list[Remediation] = []


@dataclass(frozen=True)
class GradeGroup:
    """`students` students whose latest grade and failed checks are these."""

    grade: str
    failed: list[FailedCheck]
    students: int = 1


_FAILED_DECODER = msgspec.json.Decoder(list[FailedCheck])


def _decoded(raw: str | None) -> list[FailedCheck]:
    """Stored failed checks; a shape that does not fit counts as none."""
    try:
        return _FAILED_DECODER.decode(raw or "[]")
    except (msgspec.ValidationError, msgspec.DecodeError):
        return []


def _failed_of_checks(raw: Any) -> list[FailedCheck]:
    """The failed ones among a report's stored checks; a report of a foreign shape counts as having none."""
    try:
        checks = msgspec.convert(raw or [], list[CheckGrade])
    except msgspec.ValidationError:
        return []
    return [FailedCheck(check.id, check.title, check.remediation) for check in checks if not check.passed]


async def _from_summaries(session: AsyncSession, assignment: str | None) -> list[GradeGroup]:
    """One row per distinct (grade, failed checks) among the students' summary rows, with its count:
    the database does the counting, Python decodes each distinct set of failed checks once."""
    failed = cast(StudentSummary.failed_checks, Text)
    statement = (select(StudentSummary.grade, failed.label("failed"), func.count().label("students"))
                 .group_by(StudentSummary.grade, failed))
    if assignment is not None:
        statement = statement.where(StudentSummary.assignment_key == assignment)
    else:  # every assignment: each student's newest result among them
        newer = aliased(StudentSummary)
        statement = statement.where(~exists().where(newer.author_login == StudentSummary.author_login,
                                                    newer.result_id > StudentSummary.result_id))
    rows = (await session.execute(statement)).all()
    return [GradeGroup(row.grade, _decoded(row.failed), row.students) for row in rows]


async def latest_grades(session: AsyncSession, repository: str | None = None,
                        assignment: str | None = None) -> list[GradeGroup]:
    if repository is None:
        return await _from_summaries(session, assignment)
    # Only the checks leave the database, not the whole report (lint findings, test lists, ...).
    rows = (await session.execute(
        select(Submission.author_login.label("login"), Result.grade, Result.report["checks"].label("checks"))
        .join(Result, Result.submission_id == Submission.id)
        .where(Result.id.in_(latest_result_ids(repository, assignment=assignment)))
    )).all()
    return [GradeGroup(row.grade, _failed_of_checks(row.checks)) for row in rows]


def grade_distribution(grades: Iterable[str] | Counter[str], bands: Sequence[str]) -> list[GradeCount]:
    """Every band of the rubric, best first, then any other grade found (e.g. of an older rubric)."""
    counts = grades if isinstance(grades, Counter) else Counter(grades)
    ordered = [*bands, *sorted(set(counts) - set(bands))]
    return [GradeCount(grade=grade, students=counts.get(grade, 0)) for grade in ordered]


def _most_common(counter: Counter[str]) -> Iterable[tuple[str, int]]:
    # Most students first; ties in a stable, readable order.
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def class_stats(latest: list[GradeGroup], bands: Sequence[str]) -> Stats:
    failing: Counter[str] = Counter()
    sent_to: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    check_titles: dict[str, str] = {}
    section_titles: dict[str, str] = {}
    for group in latest:
        grades[group.grade] += group.students
        urls: set[str] = set()
        for check in group.failed:
            failing[check.id] += group.students
            check_titles.setdefault(check.id, check.title)
            for link in check.remediation:
                urls.add(link.url)
                section_titles.setdefault(link.url, link.title)
        for url in urls:
            sent_to[url] += group.students
    return Stats(
        students=sum(grades.values()), grade_distribution=grade_distribution(grades, bands),
        checks=[CheckFailures(id=check_id, title=check_titles[check_id], failing_students=count)
                for check_id, count in _most_common(failing)],
        sections=[SectionNeed(title=section_titles[url], url=url, students=count)
                  for url, count in _most_common(sent_to)],
    )


async def class_stats_for(session: AsyncSession, bands: Sequence[str], repository: str | None = None,
                          assignment: str | None = None) -> Stats:
    return class_stats(await latest_grades(session, repository, assignment), bands)
