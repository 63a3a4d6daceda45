"""The one feedback comment per pull request: found by a hidden marker, created once, then edited.

The marker also records the head SHA the comment describes. Blocking PyGithub code: run it in a
thread (the publisher does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from github.IssueComment import IssueComment
from github.Repository import Repository

from grader.github.client import translate_errors
from grader.github.errors import PermanentGitHubError, RetryLater

MARKER = "<!-- grader:feedback -->"
_SHA_MARKER = re.compile(r"<!-- grader:sha=([0-9a-f]{7,40}) -->")


def marked_body(body: str, head_sha: str) -> str:
    """The comment text with both hidden markers on its first line."""
    return f"{MARKER}<!-- grader:sha={head_sha} -->\n{body}"


def described_sha(body: str) -> str | None:
    found = _SHA_MARKER.search(body)
    return found.group(1) if found else None


@dataclass(frozen=True)
class CommentRef:
    id: int
    sha: str | None
    body: str = ""


def _ours(comment: IssueComment, bot_login: str) -> bool:
    # Only our own account's comment counts: a student who pastes the marker cannot take it over.
    user = comment.user
    author_ok = user.login == bot_login if bot_login else user.type == "Bot"
    return author_ok and comment.body.startswith(MARKER)


def find_comment(repo: Repository, pr_number: int, bot_login: str) -> CommentRef | None:
    """Our marked comment on the PR (the oldest, if a race ever made two)."""
    with translate_errors():
        for comment in repo.get_issue(pr_number).get_comments():
            if _ours(comment, bot_login):
                return CommentRef(comment.id, described_sha(comment.body), comment.body)
    return None


def _edit(repo: Repository, pr_number: int, comment_id: int, body: str) -> bool:
    """Edits the comment; False when it was deleted meanwhile."""
    try:
        with translate_errors():
            repo.get_issue(pr_number).get_comment(comment_id).edit(body)
    except PermanentGitHubError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _create(repo: Repository, pr_number: int, body: str, bot_login: str) -> CommentRef:
    """Creates the comment. After a 5xx GitHub may have stored it anyway: look before giving up."""
    try:
        with translate_errors():
            return CommentRef(repo.get_issue(pr_number).create_comment(body).id, described_sha(body))
    except RetryLater:
        stored = find_comment(repo, pr_number, bot_login)
        if stored is None:
            raise
        return stored


def upsert_comment(repo: Repository, pr_number: int, body: str, head_sha: str, *,
                   known_id: int | None, bot_login: str) -> CommentRef:
    """Edits the known or marked comment, or creates the first one; never a second one."""
    text = marked_body(body, head_sha)
    if known_id is not None and _edit(repo, pr_number, known_id, text):
        return CommentRef(known_id, head_sha)
    found = find_comment(repo, pr_number, bot_login)
    if found is None:
        return _create(repo, pr_number, text, bot_login)
    if found.body != text and not _edit(repo, pr_number, found.id, text):
        return _create(repo, pr_number, text, bot_login)
    return CommentRef(found.id, head_sha)
