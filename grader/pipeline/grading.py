"""A grading job: fetch the code at the head SHA, run the checks in the sandbox, score the report.

The queue stores the result together with a publish job (one transaction), so a GitHub outage or
rate limit reschedules only the publishing, never the grading. A push that cannot be graded at all
(an unsafe or oversized archive, a rejected tree) is still a graded result: score 0, the lowest band,
the reason on every check. It gets its comment and check run like any other and becomes the
student's latest result, so an older grade never stands for a push it does not describe.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from grader.github.errors import PermanentGitHubError, RetryLater
from grader.github.publisher import fetch_checkout, mark_check_in_progress
from grader.github.tarball import UnsafeArchiveError
from grader.grading.result import GradeResult, grade_to_dict
from grader.pipeline.checkout import grade_checkout, grade_rejected
from grader.pipeline.context import JobContext, Push, load_push, save_state
from grader.queue.jobs import ClaimedJob, JobOutput

log = logging.getLogger("grader.pipeline")


async def grade_submission(job: ClaimedJob, context: JobContext) -> JobOutput:
    started = time.monotonic()
    push = await load_push(context, job.submission_id)
    await _mark_in_progress(context, push, job.submission_id)
    result = await _grade(context, push)
    return JobOutput(score=result.score, grade=result.grade, report=grade_to_dict(result),
                     duration_seconds=round(time.monotonic() - started, 3), then_publish=True)


async def _grade(context: JobContext, push: Push) -> GradeResult:
    runner, rubric = context.runner_for(push.assignment_id), context.rubric_for(push.assignment_id)
    with tempfile.TemporaryDirectory(prefix="grader-checkout-") as folder:
        try:
            checkout = await fetch_checkout(context.github, push.target, Path(folder) / "src",
                                            runner.max_checkout_bytes)
        except UnsafeArchiveError as exc:
            return grade_rejected(f"submission rejected: {exc.reason}", rubric)
        return await grade_checkout(checkout, rubric, runner, dependencies=context.settings.dependencies)


async def _mark_in_progress(context: JobContext, push: Push, submission_id: int) -> None:
    """Best effort: a check run that cannot be marked must not stop the grading itself."""
    try:
        state = await mark_check_in_progress(context.github, push.target, push.state)
    except (RetryLater, PermanentGitHubError) as exc:
        log.warning("check run not marked in progress", extra={"submission_id": submission_id, "error": str(exc)})
        return
    await save_state(context, submission_id, push, state)
