"""Store a verified workflow report as an advisory result of its submission.

Rows are found or created by the same code as the webhook's (`grader.db.records`), without moving a
pull request's head: the webhook, not the student's run, says which push is latest. Only advisory
rows are ever replaced: a result of the service's own grading is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Result, utcnow
from grader.db.records import PushRecord, store_pushes
from grader.db.results import affected_rows
from grader.grading.result import GradeResult, grade_to_dict
from grader.workflow_reports.oidc import WorkflowIdentity


@dataclass(frozen=True)
class StoredReport:
    submission_id: int
    result_id: int
    replaced_advisory: int  # earlier advisory results of the same push that this one replaced


async def store_advisory_result(session: AsyncSession, identity: WorkflowIdentity, head_sha: str,
                                result: GradeResult, assignment_id: str | None = None) -> StoredReport:
    """Write in the caller's open transaction (the caller owns `session.begin()`)."""
    record = PushRecord(repository_id=identity.repository_id, repository=identity.repository, installation_id=None,
                        pr_number=identity.pull_request_number, author_login=identity.actor, head_sha=head_sha,
                        assignment_id=assignment_id)
    stored = await (await session.connection()).run_sync(store_pushes, [record], utcnow(), authoritative=False)
    [submission_id] = stored.submission_ids
    replaced = await session.execute(
        delete(Result).where(Result.submission_id == submission_id, Result.advisory.is_(True))
        .execution_options(synchronize_session=False)
    )
    row = Result(submission_id=submission_id, job_id=None, score=result.score, grade=result.grade,
                 report=grade_to_dict(result), advisory=True,
                 duration_seconds=result.report.duration_seconds, created_at=utcnow())
    session.add(row)
    await session.flush()
    return StoredReport(submission_id, row.id, affected_rows(replaced))
