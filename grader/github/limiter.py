"""Pacing GitHub requests per installation without ever sleeping.

GitHub's documented limits for the REST API ("Rate limits for the REST API"):
- secondary: no more than 80 content-generating requests (creating or editing a comment, a check run)
  per minute and no more than 500 per hour; past them GitHub answers 403/429 with `Retry-After`;
- primary: a budget of requests per hour, announced on every response in `x-ratelimit-remaining`
  and `x-ratelimit-reset` (epoch seconds); at 0 every request fails until the reset.

`GitHubLimiter.admit` decides at once: the request may go now (its writes are counted), or `RetryLater`
says after how many seconds it could, and the queue reschedules the job; no worker waits. A
`Retry-After` GitHub sent, or a spent primary budget, holds the whole installation until then. Reads
(the tarball) are never paced: they only respect such a hold. Thread-safe: PyGithub runs in threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from grader.github.errors import RetryLater

CONTENT_REQUESTS_PER_MINUTE = 80
CONTENT_REQUESTS_PER_HOUR = 500
MINUTE, HOUR = 60.0, 3600.0

Installation = int | None  # None: the one personal or Actions token


@dataclass
class _Budget:
    writes: deque[float] = field(default_factory=deque)  # when each admitted write went, oldest first
    hold_until: float = 0.0


def wait_for_window(stamps: deque[float], limit: int, window: float, wanted: int, now: float) -> float:
    """Seconds until `wanted` more requests fit in `limit` per `window`, given the times of earlier ones
    (0: they fit now). Pure."""
    recent = [stamp for stamp in stamps if stamp > now - window]
    excess = len(recent) + min(wanted, limit) - limit
    if excess <= 0:
        return 0.0
    return recent[excess - 1] + window - now


class GitHubLimiter:
    def __init__(self, per_minute: int = CONTENT_REQUESTS_PER_MINUTE, per_hour: int = CONTENT_REQUESTS_PER_HOUR,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._clock = clock
        self._wall_clock = wall_clock
        self._budgets: dict[Installation, _Budget] = {}
        self._lock = threading.Lock()

    def _budget(self, installation: Installation) -> _Budget:
        return self._budgets.setdefault(installation, _Budget())

    def admit(self, installation: Installation, writes: int = 0) -> None:
        """Let a request with `writes` content-creating calls go now, or raise RetryLater."""
        with self._lock:
            now = self._clock()
            budget = self._budget(installation)
            if budget.hold_until > now:
                raise RetryLater(budget.hold_until - now, "GitHub asked us to wait", rate_limited=True)
            if writes <= 0:
                return
            while budget.writes and budget.writes[0] <= now - HOUR:
                budget.writes.popleft()
            wait = max(wait_for_window(budget.writes, self.per_minute, MINUTE, writes, now),
                       wait_for_window(budget.writes, self.per_hour, HOUR, writes, now))
            if wait > 0:
                raise RetryLater(wait, "content-creation limit of the installation reached", rate_limited=True)
            budget.writes.extend([now] * writes)

    def hold(self, installation: Installation, seconds: float) -> None:
        """No request of the installation before `seconds` from now (GitHub's Retry-After)."""
        with self._lock:
            budget = self._budget(installation)
            budget.hold_until = max(budget.hold_until, self._clock() + seconds)

    def observe(self, installation: Installation, remaining: int, reset_epoch: int) -> None:
        """What a response said of the primary budget; a spent one holds the installation until the reset."""
        if remaining == 0 and reset_epoch > 0:
            self.hold(installation, max(reset_epoch - self._wall_clock(), 1.0))
