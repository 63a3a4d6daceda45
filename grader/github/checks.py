"""The check run of a head SHA: queued, then in progress, then completed with lint annotations.

GitHub takes at most 50 annotations per request and appends those of each update, so the findings
go out in batches. Blocking PyGithub code: run it in a thread (the publisher does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from github.Repository import Repository

from grader.github.client import translate_errors
from grader.github.errors import RetryLater

CHECK_NAME = "grader"
ANNOTATIONS_PER_REQUEST = 50


class CheckOutput(Protocol):
    """What a completed check run shows; rendered elsewhere, posted here as it is."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def conclusion(self) -> str: ...  # success | failure | neutral
    @property
    def annotations(self) -> Sequence[dict[str, Any]]: ...


def _now() -> datetime:
    return datetime.now(UTC)


def find_check(repo: Repository, head_sha: str) -> int | None:
    """Our check run of `head_sha`, if one exists."""
    with translate_errors():
        for run in repo.get_commit(head_sha).get_check_runs(check_name=CHECK_NAME):
            return run.id
    return None


def create_check(repo: Repository, head_sha: str, status: str, details_url: str = "") -> int:
    """A new check run for `head_sha` in status `queued` or `in_progress`; returns its id.

    After a 5xx GitHub may have stored the run anyway: look for it before asking for a retry.
    """
    extra: dict[str, Any] = {"details_url": details_url} if details_url else {}
    if status == "in_progress":
        extra["started_at"] = _now()
    try:
        with translate_errors():
            return repo.create_check_run(name=CHECK_NAME, head_sha=head_sha, status=status, **extra).id
    except RetryLater:
        stored = find_check(repo, head_sha)
        if stored is None:
            raise
        return stored


def start_check(repo: Repository, check_run_id: int) -> None:
    with translate_errors():
        repo.get_check_run(check_run_id).edit(status="in_progress", started_at=_now())


def batches(annotations: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Annotations in chunks GitHub accepts; one empty chunk when there are none."""
    size = ANNOTATIONS_PER_REQUEST
    return [list(annotations[i:i + size]) for i in range(0, len(annotations), size)] or [[]]


def complete_check(repo: Repository, check_run_id: int, output: CheckOutput) -> None:
    """Sends every annotation batch, the last request carrying the conclusion."""
    chunks = batches(output.annotations)
    with translate_errors():
        run = repo.get_check_run(check_run_id)
        for index, chunk in enumerate(chunks):
            body: dict[str, Any] = {"title": output.title, "summary": output.summary}
            if output.text:
                body["text"] = output.text
            if chunk:
                body["annotations"] = chunk
            if index < len(chunks) - 1:
                run.edit(status="in_progress", output=body)
            else:
                run.edit(status="completed", conclusion=output.conclusion, completed_at=_now(), output=body)
