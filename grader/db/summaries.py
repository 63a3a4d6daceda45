"""The per-student summary row (`StudentSummary`): kept up to date when a service result is stored.

The row follows the student's newest service result (the highest result id, as "latest" always meant):
a regrade or a later push replaces it, an older result arriving late (a stale worker's) cannot, on
either database, because the upsert only moves forward.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.dialect import insert_for
from grader.db.models import Base, Submission, utcnow

SUMMARIES = Base.metadata.tables["student_summaries"]


def failed_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    """What class statistics need of a stored report: its failed checks with their remediation. Pure;
    a report of a foreign shape has none."""
    checks = report.get("checks") if isinstance(report, dict) else None
    failed: list[dict[str, Any]] = []
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, dict) or check.get("passed", True) or not isinstance(check.get("id"), str):
            continue
        links = [{"title": str(link.get("title", "")), "url": str(link.get("url", ""))}
                 for link in check.get("remediation") or [] if isinstance(link, dict)]
        failed.append({"id": check["id"], "title": str(check.get("title", check["id"])), "remediation": links})
    return failed


@cache
def _upsert(dialect: str) -> Insert:
    statement = insert_for(dialect, SUMMARIES)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["assignment_key", "author_login"],
        set_={column: excluded[column] for column in
              ("result_id", "submission_id", "score", "grade", "failed_checks", "updated_at")},
        where=SUMMARIES.c.result_id < excluded.result_id,
    )


async def record_service_result(session: AsyncSession, submission_id: int, result_id: int, score: float,
                                grade: str, report: dict[str, Any]) -> None:
    """Make this result its student's newest, unless a newer one is already recorded (caller's transaction)."""
    connection = await session.connection()
    owner = (await connection.execute(select(Submission.assignment_id, Submission.author_login)
                                      .where(Submission.id == submission_id))).one()
    await connection.execute(_upsert(connection.dialect.name), {
        "assignment_key": owner.assignment_id or "", "author_login": owner.author_login, "result_id": result_id,
        "submission_id": submission_id, "score": score, "grade": grade, "failed_checks": failed_checks(report),
        "updated_at": utcnow()})
