"""The `grader` commands the reusable workflow runs: `workflow summary`, `publish`, `workflow send`.

Each takes `(args, settings)` and returns an exit code. Not being able to comment or report (a fork's
read-only token, no OIDC token) is not a failure of the student's run: the step says why and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from grader.actions.actions_env import append_summary, notice, set_outputs
from grader.actions.event import PullRequestRun, read_event, read_result
from grader.actions.send import NoOidcTokenError, post_report, request_oidc_token
from grader.errors import CommandError
from grader.feedback.check_run import Feedback, render_feedback
from grader.feedback.comment import CommentContext, number, render_comment
from grader.github.client import GitHubClient
from grader.github.errors import PermanentGitHubError
from grader.github.publisher import PublishState, PublishTarget, publish
from grader.grading.result import grade_to_dict
from grader.settings import ActionsSettings, Settings

PUBLISH_ATTEMPTS = 3
MAX_RETRY_WAIT_SECONDS = 30.0

FORK_NOTICE = ("No PR comment: this pull request comes from a fork, so the workflow's token is read-only. "
               "The grade is in this run's summary and in the grader-report artifact.")
READ_ONLY_NOTICE = ("No PR comment: GitHub refused the workflow's token ({reason}). "
                    "The grade is in this run's summary and in the grader-report artifact.")
NO_OIDC_NOTICE = ("No report sent to the service: GitHub gave this run no OIDC token (a fork's pull request, "
                  "or the calling workflow did not grant id-token: write).")


def _context(run: PullRequestRun, actions: ActionsSettings) -> CommentContext:
    return CommentContext(repo=run.repo, head_sha=run.head_sha, html_url=actions.server_url)


def summary_command(args: argparse.Namespace, settings: Settings) -> int:
    """The comment's text as the job summary; score and grade as step outputs."""
    result, run = read_result(Path(args.report)), read_event(Path(args.event))
    append_summary(render_comment(result, _context(run, settings.actions)), settings.actions)
    set_outputs({"score": number(result.score), "grade": result.grade}, settings.actions)
    print(f"grade {result.grade}, score {number(result.score)}")
    return 0


async def _publish_with_retries(client: GitHubClient, target: PublishTarget, feedback: Feedback) -> None:
    state = PublishState()
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        outcome = await publish(client, target, feedback.comment, feedback.check_run, state)
        if outcome.retry is None:
            return
        if attempt == PUBLISH_ATTEMPTS:
            raise CommandError(f"could not publish the feedback: {outcome.retry}")
        state = outcome.state
        await asyncio.sleep(min(outcome.retry.seconds, MAX_RETRY_WAIT_SECONDS))


def _explain(message: str, actions: ActionsSettings) -> int:
    notice(message)
    append_summary(f"> {message}", actions)
    return 0


def publish_command(args: argparse.Namespace, settings: Settings) -> int:
    """Posts or edits the one feedback comment and completes the check run."""
    result, run = read_result(Path(args.report)), read_event(Path(args.event))
    if run.is_fork:
        return _explain(FORK_NOTICE, settings.actions)
    client = GitHubClient(settings.github, bot_login=settings.actions.comment_author)
    target = PublishTarget(repo=run.repo, pr_number=run.number, head_sha=run.head_sha)
    feedback = render_feedback(result, _context(run, settings.actions))
    try:
        asyncio.run(_publish_with_retries(client, target, feedback))
    except PermanentGitHubError as exc:
        if exc.status in {401, 403}:
            return _explain(READ_ONLY_NOTICE.format(reason=f"HTTP {exc.status}: {exc.reason}"), settings.actions)
        raise CommandError(str(exc)) from None
    print(f"feedback comment on {run.repo}#{run.number} is up to date")
    return 0


def send_command(args: argparse.Namespace, settings: Settings) -> int:
    """Sends the report with the run's OIDC token; the service stores it as advisory."""
    result, run = read_result(Path(args.report)), read_event(Path(args.event))
    service_url = args.service_url.strip().rstrip("/")
    if not service_url:
        raise CommandError("--service-url is empty")
    try:
        token = request_oidc_token(service_url, settings.actions)
    except NoOidcTokenError:
        return _explain(NO_OIDC_NOTICE, settings.actions)
    answer = post_report(service_url, token, {"head_sha": run.head_sha, "result": grade_to_dict(result)})
    print(f"report stored by the service as advisory result {answer.get('result_id')}")
    return 0
