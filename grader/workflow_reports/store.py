"""Store a verified workflow report as an advisory result of its submission.

Rows are found or created the way the webhook intake makes them (INSERT … ON CONFLICT DO NOTHING,
then read back), so a report and a webhook for the same push meet on the same submission. Only
advisory rows are ever replaced: a result of the service's own grading is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.dialect import insert_for
from grader.db.models import PullRequest, Repository, Result, Submission, utcnow
from grader.grade import GradeResult, grade_to_dict
from grader.workflow_reports.oidc import WorkflowIdentity


@dataclass(frozen=True)
class StoredReport:
    submission_id: int
    result_id: int
    replaced_advisory: int  # earlier advisory results of the same push that this one replaced


def _insert(session: AsyncSession, model: Any) -> Any:
    return insert_for(session.get_bind().dialect.name)(model)


async def store_advisory_result(session: AsyncSession, identity: WorkflowIdentity, head_sha: str,
                                result: GradeResult) -> StoredReport:
    """Write in the caller's open transaction (the caller owns `session.begin()`)."""
    repository_id = await _find_or_create_repository(session, identity)
    pull_request_id = await _find_or_create_pull_request(session, repository_id, identity, head_sha)
    submission_id = await _find_or_create_submission(session, pull_request_id, identity, head_sha)
    replaced = await session.execute(
        delete(Result).where(Result.submission_id == submission_id, Result.advisory.is_(True))
        .execution_options(synchronize_session=False)
    )
    row = Result(submission_id=submission_id, job_id=None, score=result.score, grade=result.grade,
                 report=grade_to_dict(result), advisory=True,
                 duration_seconds=result.report.duration_seconds, created_at=utcnow())
    session.add(row)
    await session.flush()
    return StoredReport(submission_id, row.id, replaced.rowcount)


async def _find_or_create_repository(session: AsyncSession, identity: WorkflowIdentity) -> int:
    await session.execute(
        _insert(session, Repository)
        .values(github_id=identity.repository_id, full_name=identity.repository, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["github_id"])
    )
    return await session.scalar(select(Repository.id).where(Repository.github_id == identity.repository_id))


async def _find_or_create_pull_request(session: AsyncSession, repository_id: int, identity: WorkflowIdentity,
                                       head_sha: str) -> int:
    # An existing row keeps its head SHA: the webhook, not the student's run, says which push is latest.
    await session.execute(
        _insert(session, PullRequest)
        .values(repository_id=repository_id, number=identity.pull_request_number,
                author_login=identity.actor, title="", latest_head_sha=head_sha, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["repository_id", "number"])
    )
    return await session.scalar(
        select(PullRequest.id).where(PullRequest.repository_id == repository_id,
                                     PullRequest.number == identity.pull_request_number)
    )


async def _find_or_create_submission(session: AsyncSession, pull_request_id: int, identity: WorkflowIdentity,
                                     head_sha: str) -> int:
    await session.execute(
        _insert(session, Submission)
        .values(pull_request_id=pull_request_id, head_sha=head_sha, author_login=identity.actor,
                received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["pull_request_id", "head_sha"])
    )
    return await session.scalar(
        select(Submission.id).where(Submission.pull_request_id == pull_request_id,
                                    Submission.head_sha == head_sha)
    )
