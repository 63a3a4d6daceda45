"""What a worker does for a job: grade a submission, or publish its result on GitHub.

A grading job fetches the code at the head SHA, runs the checks in the sandbox, and stores the graded
result together with a publish job (one transaction, in `grader.queue.jobs.complete`). Publishing is a
job of its own so that a GitHub outage or rate limit reschedules only the publishing, never the grading.

The processor is a setting (`GRADER_JOB_PROCESSOR`, `module:function`) so tests can swap it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from grader.db.models import JobKind, PullRequest, Result, Submission
from grader.github.client import GitHubClient
from grader.github.errors import PermanentGitHubError, RetryLater
from grader.github.publisher import PublishState, PublishTarget, fetch_checkout, mark_check_in_progress, publish
from grader.grade import grade_from_dict, grade_to_dict
from grader.queue.jobs import ClaimedJob, FinalFailure, JobOutput, Reschedule
from grader.report import InfrastructureError
from grader.rubric.loader import default_rubric_path, load_rubric
from grader.runner import grade_checkout

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from grader.queue.worker import JobProcessor
    from grader.settings import GitHubSettings, Settings

DEFAULT_PROCESSOR = "grader.pipeline:process_job"
log = logging.getLogger("grader.pipeline")


@dataclass(frozen=True)
class _Push:
    """What a job needs to know about its submission, read in one query."""

    target: PublishTarget
    state: PublishState


@cache
def github_client(settings: GitHubSettings) -> GitHubClient:
    """One client per process, so App installation tokens are cached between jobs."""
    return GitHubClient(settings)


async def process_job(job: ClaimedJob, settings: Settings,
                      sessionmaker: async_sessionmaker[AsyncSession]) -> JobOutput | None:
    try:
        if job.kind is JobKind.PUBLISH:
            await publish_result(job, settings, sessionmaker)
            return None
        return await grade_submission(job, settings, sessionmaker)
    except RetryLater as exc:
        raise Reschedule(exc.seconds, str(exc)) from exc
    except PermanentGitHubError as exc:
        raise FinalFailure(str(exc)) from exc


async def grade_submission(job: ClaimedJob, settings: Settings,
                           sessionmaker: async_sessionmaker[AsyncSession]) -> JobOutput:
    started = time.monotonic()
    push = await _load_push(sessionmaker, job.submission_id)
    client = github_client(settings.github)
    await _mark_in_progress(client, push, sessionmaker, job.submission_id)
    rubric = load_rubric(settings.runner.rubric or default_rubric_path())
    with tempfile.TemporaryDirectory(prefix="grader-checkout-") as folder:
        checkout = await fetch_checkout(client, push.target.repo, push.target.head_sha, Path(folder) / "src",
                                        settings.runner.max_checkout_bytes, push.target.installation_id)
        result = await grade_checkout(checkout, rubric, settings.runner)
    return JobOutput(score=result.score, grade=result.grade, report=grade_to_dict(result),
                     duration_seconds=round(time.monotonic() - started, 3), then_publish=True)


async def publish_result(job: ClaimedJob, settings: Settings,
                         sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    push = await _load_push(sessionmaker, job.submission_id)
    async with sessionmaker() as session:
        stored = await session.scalar(
            select(Result).where(Result.submission_id == job.submission_id, Result.advisory.is_(False))
            .order_by(Result.id.desc()).limit(1))
    if stored is None:
        raise FinalFailure("no graded result to publish")
    try:
        state = await publish(github_client(settings.github), push.target, grade_from_dict(stored.report),
                              push.state)
    except RetryLater as exc:
        if isinstance(exc.partial_state, PublishState):
            await _save_state(sessionmaker, job.submission_id, push, exc.partial_state)
        raise
    await _save_state(sessionmaker, job.submission_id, push, state)


async def _load_push(sessionmaker: async_sessionmaker[AsyncSession], submission_id: int) -> _Push:
    async with sessionmaker() as session:
        submission = await session.scalar(
            select(Submission).where(Submission.id == submission_id)
            .options(joinedload(Submission.pull_request).joinedload(PullRequest.repository)))
    if submission is None:
        raise FinalFailure(f"submission {submission_id} no longer exists")
    pr = submission.pull_request
    target = PublishTarget(repo=pr.repository.full_name, pr_number=pr.number, head_sha=submission.head_sha,
                           installation_id=pr.repository.installation_id, latest_head_sha=pr.latest_head_sha)
    return _Push(target, PublishState(pr.comment_id, pr.comment_sha, submission.check_run_id))


async def _mark_in_progress(client: GitHubClient, push: _Push, sessionmaker: async_sessionmaker[AsyncSession],
                            submission_id: int) -> None:
    """Best effort: a check run that cannot be marked must not stop the grading itself."""
    try:
        state = await mark_check_in_progress(client, push.target, push.state)
    except (RetryLater, PermanentGitHubError) as exc:
        log.warning("check run not marked in progress", extra={"submission_id": submission_id, "error": str(exc)})
        return
    await _save_state(sessionmaker, submission_id, push, state)


async def _save_state(sessionmaker: async_sessionmaker[AsyncSession], submission_id: int, push: _Push,
                      state: PublishState) -> None:
    async with sessionmaker() as session, session.begin():
        submission = await session.get(Submission, submission_id)
        if submission is None:
            return
        submission.check_run_id = state.check_run_id
        if state.comment_id is not None and state.comment_sha == push.target.head_sha:
            await session.execute(
                update(PullRequest).where(PullRequest.id == submission.pull_request_id)
                .values(comment_id=state.comment_id, comment_sha=state.comment_sha))


async def prepare_host(settings: Settings) -> None:
    """Before the first claim: remove grading containers that dead workers left on this host."""
    from grader.runner.sandbox import DockerSandbox

    with contextlib.suppress(InfrastructureError, OSError):
        removed = await DockerSandbox(settings.runner).remove_orphans()
        if removed:
            log.info("removed orphan containers", extra={"count": removed})


def load_processor(spec: str | None = None) -> JobProcessor:
    spec = spec or os.environ.get("GRADER_JOB_PROCESSOR", "").strip() or DEFAULT_PROCESSOR
    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"GRADER_JOB_PROCESSOR {spec!r} cannot be imported: {exc}") from None
