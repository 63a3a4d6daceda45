"""The worker's narrow async door to GitHub: fetch the code, mark the check, publish the result.

Every PyGithub call runs in a thread (`asyncio.to_thread`); none blocks the event loop. Failures
come out as `RetryLater` (reschedule; `partial_state` carries what was already done) or
`PermanentGitHubError` (record and stop).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from grader.feedback.check_run import annotations, check_summary, check_text, check_title, conclusion
from grader.feedback.comment import CommentContext, render_comment
from grader.github.checks import CheckOutput, complete_check, create_check, start_check
from grader.github.client import GitHubClient
from grader.github.comments import CommentRef, upsert_comment
from grader.github.errors import RetryLater
from grader.github.tarball import fetch_tree
from grader.grade import GradeResult


@dataclass(frozen=True)
class PublishTarget:
    repo: str  # "owner/name"
    pr_number: int
    head_sha: str
    installation_id: int | None = None
    # The PR's newest head SHA as the service knows it; a result for any other SHA is stale and
    # must not overwrite the comment (its check run, which belongs to its own SHA, is still completed).
    latest_head_sha: str | None = None
    details_url: str = ""

    @property
    def is_stale(self) -> bool:
        return bool(self.latest_head_sha) and self.latest_head_sha != self.head_sha


@dataclass(frozen=True)
class PublishState:
    """What is stored between attempts. The comment belongs to the PR (`PullRequest.comment_id`,
    `comment_sha`); the check run to one head SHA (`Submission.check_run_id`): pass the
    submission's own check run id, never the one of an earlier push."""

    comment_id: int | None = None
    comment_sha: str | None = None
    check_run_id: int | None = None


def _context(client: GitHubClient, target: PublishTarget) -> CommentContext:
    return CommentContext(repo=target.repo, head_sha=target.head_sha, html_url=client.html_url)


async def fetch_checkout(client: GitHubClient, repo: str, sha: str, dest: Path, max_bytes: int,
                         installation_id: int | None = None) -> Path:
    """The repository at `sha`, unpacked safely into `dest`."""
    github_repo = client.connection(installation_id).get_repo(repo)
    return await asyncio.to_thread(fetch_tree, github_repo, sha, dest, max_bytes)


async def mark_check_queued(client: GitHubClient, target: PublishTarget, state: PublishState) -> PublishState:
    """Creates the check run of the head SHA in `queued` (once; a known id is kept)."""
    if state.check_run_id is not None:
        return state
    repo = client.connection(target.installation_id).get_repo(target.repo)
    run_id = await asyncio.to_thread(create_check, repo, target.head_sha, "queued", target.details_url)
    return replace(state, check_run_id=run_id)


async def mark_check_in_progress(client: GitHubClient, target: PublishTarget,
                                 state: PublishState) -> PublishState:
    """Moves the check run to `in_progress`, creating it if the queued mark never happened."""
    repo = client.connection(target.installation_id).get_repo(target.repo)
    if state.check_run_id is None:
        status, details = "in_progress", target.details_url
        run_id = await asyncio.to_thread(create_check, repo, target.head_sha, status, details)
        return replace(state, check_run_id=run_id)
    await asyncio.to_thread(start_check, repo, state.check_run_id)
    return state


def _check_output(result: GradeResult, ctx: CommentContext) -> CheckOutput:
    return CheckOutput(title=check_title(result), summary=check_summary(result), text=check_text(result, ctx),
                       conclusion=conclusion(result), annotations=annotations(result))


async def _publish_comment(client: GitHubClient, target: PublishTarget, body: str,
                           state: PublishState) -> PublishState:
    if target.is_stale:
        return state
    ref = await asyncio.to_thread(_upsert, client, target, body, state.comment_id)
    return replace(state, comment_id=ref.id, comment_sha=target.head_sha)


def _upsert(client: GitHubClient, target: PublishTarget, body: str, known_id: int | None) -> CommentRef:
    repo = client.connection(target.installation_id).get_repo(target.repo)
    return upsert_comment(repo, target.pr_number, body, target.head_sha, known_id=known_id,
                          bot_login=client.own_login())


async def publish(client: GitHubClient, target: PublishTarget, result: GradeResult,
                  state: PublishState) -> PublishState:
    """Edits (or creates) the one PR comment and completes the check run; returns the new state."""
    ctx = _context(client, target)
    try:
        state = await _publish_comment(client, target, render_comment(result, ctx), state)
        if state.check_run_id is None:
            state = await mark_check_in_progress(client, target, state)
        repo = client.connection(target.installation_id).get_repo(target.repo)
        await asyncio.to_thread(complete_check, repo, state.check_run_id, _check_output(result, ctx))
    except RetryLater as exc:
        exc.partial_state = state
        raise
    return state
