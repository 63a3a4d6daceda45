"""A publish job: show the submission's newest outcome on GitHub.

A graded result becomes the PR comment and the completed check run, as the course shows it: with the
instructor's override, or the late penalty of the push. A grading that ended failed completes the check
run with the reason, so no push is left "in progress" forever. Rendering is `grader.feedback`'s;
`grader.github` only posts what it is given.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from sqlalchemy import select

from grader.course.presentation import instructor_override, presented
from grader.db.course_rows import extension_until, overrides_of
from grader.db.history import previous_graded_push
from grader.db.models import Job, JobKind, JobStatus, Result
from grader.feedback.check_run import CheckRunOutput, not_graded_check_run, render_feedback
from grader.feedback.comment import CommentContext
from grader.github.publisher import PublishOutcome, complete_check_run, publish
from grader.grading.diff import with_diff
from grader.grading.result import GradeResult, grade_from_dict
from grader.pipeline.context import JobContext, Push, load_push, save_state
from grader.queue.jobs import ClaimedJob, FinalFailure

NOT_GRADED = "grading did not finish"
log = logging.getLogger("grader.pipeline")


async def publish_outcome(job: ClaimedJob, context: JobContext) -> None:
    push = await load_push(context, job.submission_id)
    outcome = await _newest_outcome(context, job.submission_id)
    if isinstance(outcome, GradeResult):
        published = await _publish_result(context, push, await _as_shown(context, push, job.submission_id, outcome))
    else:
        language = context.rubric_for(push.assignment_id).language
        published = await _publish_not_graded(context, push, not_graded_check_run(outcome, language))
    await save_state(context, job.submission_id, push, published.state)
    if published.check_run_refused:
        log.warning("check run refused; the comment was posted", extra={
            "submission_id": job.submission_id, "error": published.check_run_refused})
    if published.retry is not None:
        raise published.retry


async def _newest_outcome(context: JobContext, submission_id: int) -> GradeResult | str:
    """The newest service result, with what changed since the previous graded push of the pull request,
    or the reason the newest grading job failed."""
    async with context.sessionmaker() as session:
        grading = await session.scalar(
            select(Job).where(Job.submission_id == submission_id, Job.kind == JobKind.GRADE)
            .order_by(Job.id.desc()).limit(1))
        if grading is not None and grading.status is JobStatus.FAILED:
            return grading.last_error or NOT_GRADED
        stored = await session.scalar(
            select(Result).where(Result.submission_id == submission_id, Result.advisory.is_(False))
            .order_by(Result.id.desc()).limit(1))
        if stored is None:
            raise FinalFailure("no graded result to publish")
        previous = await previous_graded_push(session, submission_id, stored.id)
    result = grade_from_dict(stored.report)
    return with_diff(result, *_previous(previous))


def _previous(previous: tuple[str, dict[str, Any]] | None) -> tuple[GradeResult | None, str]:
    """The previous push's result and SHA; a stored report of an older shape is not compared."""
    if previous is None:
        return None, ""
    try:
        return grade_from_dict(previous[1]), previous[0]
    except (msgspec.ValidationError, TypeError):
        return None, ""


async def _as_shown(context: JobContext, push: Push, submission_id: int, result: GradeResult) -> GradeResult:
    """The result with the newest override of the submission, or the push's late penalty."""
    course = context.settings.course
    assignment = course.assignment(push.assignment_id) if course and push.assignment_id else None
    async with context.sessionmaker() as session:
        overrides = await overrides_of(session, submission_id)
        extension = await extension_until(session, push.assignment_id, push.author_login)
    override = overrides[0] if overrides else None
    shown = None if override is None else instructor_override(override.score, override.grade, override.note,
                                                              override.created_by, override.created_at)
    return presented(result, context.rubric_for(push.assignment_id), assignment, push.received_at, extension, shown)


async def _publish_result(context: JobContext, push: Push, result: GradeResult) -> PublishOutcome:
    ctx = CommentContext(repo=push.target.repo, head_sha=push.target.head_sha, html_url=context.github.html_url)
    feedback = render_feedback(result, ctx)
    return await publish(context.github, push.target, feedback.comment, feedback.check_run, push.state)


async def _publish_not_graded(context: JobContext, push: Push, check: CheckRunOutput) -> PublishOutcome:
    state = await complete_check_run(context.github, push.target, check, push.state)
    return PublishOutcome(state)
