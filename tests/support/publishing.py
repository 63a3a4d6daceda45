"""Publishing a graded result as the pipeline does: render with `grader.feedback`, post with `grader.github`."""

from __future__ import annotations

from grader.feedback.check_run import CheckRunOutput, render_feedback
from grader.feedback.comment import CommentContext
from grader.github.client import GitHubClient
from grader.github.publisher import PublishOutcome, PublishState, PublishTarget, publish
from grader.grading.result import GradeResult


def _rendered(result: GradeResult, target: PublishTarget) -> tuple[str, CheckRunOutput]:
    feedback = render_feedback(result, CommentContext(repo=target.repo, head_sha=target.head_sha))
    return feedback.comment, feedback.check_run


async def publish_result(client: GitHubClient, target: PublishTarget, result: GradeResult,
                         state: PublishState) -> PublishOutcome:
    return await publish(client, target, *_rendered(result, target), state)


async def post(client: GitHubClient, target: PublishTarget, result: GradeResult, state: PublishState) -> PublishState:
    """Publish, and expect GitHub not to interrupt."""
    outcome = await publish_result(client, target, result, state)
    assert outcome.retry is None, outcome.retry
    return outcome.state
