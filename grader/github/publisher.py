"""The worker's narrow async door to GitHub: fetch the code, mark the check, post what was rendered.

It posts strings and payloads it is given and knows nothing of grades. Every PyGithub call runs in a
thread (`asyncio.to_thread`); none blocks the event loop. A publish that GitHub interrupts comes back
as a `PublishOutcome` carrying what was already done and when to try again; permanent refusals raise
`PermanentGitHubError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from github.Repository import Repository

from grader.github.checks import CheckOutput, batches, complete_check, create_check, start_check
from grader.github.client import GitHubClient
from grader.github.comments import CommentRef, upsert_comment
from grader.github.errors import PermanentGitHubError, RetryLater
from grader.github.tarball import fetch_tree

T = TypeVar("T")


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


@dataclass(frozen=True)
class PublishOutcome:
    """What a publish did: the state to store, and `retry` when GitHub interrupted it (try again later,
    starting from `state`, so that nothing is created twice)."""

    state: PublishState
    retry: RetryLater | None = None
    # Why GitHub refused the check run while the comment went out: a personal token cannot create
    # check runs (GitHub reserves the Checks API to GitHub Apps).
    check_run_refused: str = ""


def _repo(client: GitHubClient, target: PublishTarget) -> Repository:
    return client.connection(target.installation_id).get_repo(target.repo)


async def _paced(client: GitHubClient, target: PublishTarget, writes: int, action: Callable[..., T],
                 *args: Any) -> T:
    """Run a blocking PyGithub `action` in a thread once the limiter admits its `writes` (RetryLater
    otherwise, at once), and tell the limiter what GitHub answered."""
    client.admit(target.installation_id, writes)
    failure: BaseException | None = None
    try:
        return await asyncio.to_thread(action, *args)
    except BaseException as exc:
        failure = exc
        raise
    finally:
        client.after_call(target.installation_id, failure)


async def fetch_checkout(client: GitHubClient, target: PublishTarget, dest: Path, max_bytes: int) -> Path:
    """The repository at the target's head SHA, unpacked safely into `dest` (a read: never paced)."""
    return await _paced(client, target, 0, fetch_tree, _repo(client, target), target.head_sha, dest, max_bytes)


async def mark_check_in_progress(client: GitHubClient, target: PublishTarget,
                                 state: PublishState) -> PublishState:
    """Moves the check run to `in_progress`, creating it if it does not exist yet."""
    repo = _repo(client, target)
    if state.check_run_id is None:
        run_id = await _paced(client, target, 1, create_check, repo, target.head_sha, "in_progress",
                              target.details_url)
        return replace(state, check_run_id=run_id)
    await _paced(client, target, 1, start_check, repo, state.check_run_id)
    return state


async def complete_check_run(client: GitHubClient, target: PublishTarget, output: CheckOutput,
                             state: PublishState) -> PublishState:
    """Completes the head SHA's check run with `output` (creating the run first if need be)."""
    if state.check_run_id is None:
        state = await mark_check_in_progress(client, target, state)
    assert state.check_run_id is not None
    await _paced(client, target, len(batches(output.annotations)), complete_check, _repo(client, target),
                 state.check_run_id, output)
    return state


def _upsert(client: GitHubClient, target: PublishTarget, body: str, known_id: int | None) -> CommentRef:
    return upsert_comment(_repo(client, target), target.pr_number, body, target.head_sha, known_id=known_id,
                          bot_login=client.own_login())


async def publish(client: GitHubClient, target: PublishTarget, comment: str, check: CheckOutput,
                  state: PublishState) -> PublishOutcome:
    """Completes the check run, then edits (or creates) the one PR comment unless the target is stale.

    The check run goes first: it belongs to this SHA whatever happens to the pull request, so a
    comment GitHub refuses (the PR is gone) still leaves a completed check behind.
    """
    refused = ""
    try:
        try:
            state = await complete_check_run(client, target, check, state)
        except PermanentGitHubError as exc:
            if exc.status != 403:
                raise
            refused = str(exc)
        if not target.is_stale:
            ref = await _paced(client, target, 1, _upsert, client, target, comment, state.comment_id)
            state = replace(state, comment_id=ref.id, comment_sha=target.head_sha)
    except RetryLater as exc:
        return PublishOutcome(state, retry=exc)
    return PublishOutcome(state, check_run_refused=refused)
