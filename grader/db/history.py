"""The previous graded push of a pull request, for "what changed since the last push".

"Previous" is by grading order: the newest service result of another push of the same pull request
stored before the given result. That is what the student's comment showed before this one (a
force-push back to an earlier SHA is compared with the push it replaced).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Result, Submission


async def previous_graded_push(session: AsyncSession, submission_id: int,
                               before_result_id: int) -> tuple[str, dict[str, Any]] | None:
    """(head SHA, stored report) of the previous graded push, or None for the first one. One statement."""
    pull_request = select(Submission.pull_request_id).where(Submission.id == submission_id).scalar_subquery()
    row = (await session.execute(
        select(Submission.head_sha, Result.report)
        .join(Result, Result.submission_id == Submission.id)
        .where(Submission.pull_request_id == pull_request, Submission.id != submission_id,
               Result.advisory.is_(False), Result.id < before_result_id)
        .order_by(Result.id.desc()).limit(1))).first()
    return (row.head_sha, row.report) if row is not None else None
