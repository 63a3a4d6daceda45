"""Typed outcomes of a failed GitHub call, so the caller can decide without reading HTTP details.

`RetryLater` never makes a worker wait: it says how long to wait, and the queue reschedules the job.
`PermanentGitHubError` (the PR is gone, the request is invalid, access was refused) is recorded and
not retried, because a retry would fail the same way.
"""

from __future__ import annotations


class GitHubError(RuntimeError):
    """A GitHub call failed; the message is one line."""


class RetryLater(GitHubError):
    """Transient: a 5xx, a timeout or a rate limit. Try again after `seconds`."""

    def __init__(self, seconds: float, reason: str, *, rate_limited: bool = False) -> None:
        super().__init__(f"GitHub asked to retry in {seconds:.0f} s: {reason}")
        self.seconds = seconds
        self.reason = reason
        # A rate limit (Retry-After, a 403/429 saying so) holds every request of the installation.
        self.rate_limited = rate_limited


class PermanentGitHubError(GitHubError):
    """A failure a retry cannot fix: 404/410 (gone), 422 (invalid), 401/403 without a rate limit."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"GitHub refused the request ({status}): {reason}")
        self.status = status
        self.reason = reason
