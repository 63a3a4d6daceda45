"""What the class needs: grade distribution, most-failed checks, most-needed lesson sections.

Counted over each student's latest service grade (one statement, reading only the stored checks),
then tallied in Python by `class_stats`, a pure function of those checks.
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
from grader.db.models import Result, Submission
from grader.grading.result import CheckGrade


@dataclass(frozen=True)
class LatestGrade:
    student: str
    grade: str
    checks: list[CheckGrade]


def _checks(raw: Any) -> list[CheckGrade]:
    """The stored checks; a report of a foreign shape counts as having none."""
    try:
        return msgspec.convert(raw or [], list[CheckGrade])
    except msgspec.ValidationError:
        return []


async def latest_grades(session: AsyncSession, repository: str | None = None,
                        assignment: str | None = None) -> list[LatestGrade]:
    # Only the checks leave the database, not the whole report (lint findings, test lists, ...).
    rows = (await session.execute(
        select(Submission.author_login.label("login"), Result.grade, Result.report["checks"].label("checks"))
        .join(Result, Result.submission_id == Submission.id)
        .where(Result.id.in_(latest_result_ids(repository, assignment=assignment)))
    )).all()
    return [LatestGrade(row.login, row.grade, _checks(row.checks)) for row in rows]


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
        for check in item.checks:
            if check.passed:
                continue
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
