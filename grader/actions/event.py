"""What a workflow step needs to know about its run: the pull request, from GitHub's event file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from grader.errors import CommandError
from grader.grading.result import GradeResult


class _Repo(msgspec.Struct):
    full_name: str


class _Head(msgspec.Struct):
    sha: str
    repo: _Repo | None = None  # None when the fork was deleted


class _PullRequest(msgspec.Struct):
    number: int
    head: _Head


class _Event(msgspec.Struct):
    pull_request: _PullRequest
    repository: _Repo


@dataclass(frozen=True)
class PullRequestRun:
    repo: str  # the base repository, "owner/name"
    number: int
    head_sha: str
    head_repo: str | None

    @property
    def is_fork(self) -> bool:
        """A fork's pull request runs with a read-only token and without an OIDC token."""
        return self.head_repo != self.repo


def read_event(path: Path) -> PullRequestRun:
    try:
        event = msgspec.json.decode(path.read_bytes(), type=_Event)
    except OSError as exc:
        raise CommandError(f"cannot read the event file {path}: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        raise CommandError(f"{path} is not a pull_request event: {exc}") from None
    head = event.pull_request.head
    return PullRequestRun(repo=event.repository.full_name, number=event.pull_request.number,
                          head_sha=head.sha, head_repo=head.repo.full_name if head.repo else None)


def read_result(path: Path) -> GradeResult:
    """The JSON that `grader check --format json` printed."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=GradeResult)
    except OSError as exc:
        raise CommandError(f"cannot read the report {path}: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        raise CommandError(f"{path} is not the JSON of `grader check --format json`: {exc}") from None
