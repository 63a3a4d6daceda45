"""The PyGithub connection: authentication, base URL, pacing and the mapping of failures to types.

PyGithub's own retries and pacing are switched off: they sleep inside the call (up to the rate-limit
reset, which can be an hour; a quarter second before every request, a second between writes, one
request at a time per connection). Instead `GitHubLimiter` admits a request or says when it could go,
and every failure is translated into `RetryLater` or `PermanentGitHubError`: the job is rescheduled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException

from grader.github.errors import PermanentGitHubError, RetryLater
from grader.github.limiter import GitHubLimiter
from grader.settings import GitHubSettings

T = TypeVar("T")
SERVER_ERROR_RETRY_SECONDS = 30.0
SECONDARY_LIMIT_RETRY_SECONDS = 60.0
MAX_RETRY_SECONDS = 3600.0


@dataclass
class GitHubClient:
    """One PyGithub `Github` per installation (its token is refreshed shortly before it expires).

    `limiter` keeps each installation under GitHub's content-creation and primary limits without
    sleeping (see `admit`). `bot_login`, when set, names the account whose comments are ours; see
    `own_login` for how it is found otherwise.
    """

    settings: GitHubSettings
    timeout: int = 15
    bot_login: str = ""
    limiter: GitHubLimiter = field(default_factory=GitHubLimiter)
    _connections: dict[int | None, Github] = field(default_factory=dict, repr=False)
    _login: str | None = field(default=None, repr=False)

    @property
    def html_url(self) -> str:
        """The web address matching the API (github.com, or the GitHub Enterprise host)."""
        return self.settings.html_url

    def connection(self, installation_id: int | None) -> Github:
        """The cached connection for an installation (App auth) or the token (installation None)."""
        key = self._key(installation_id)
        if key not in self._connections:
            self._connections[key] = Github(
                auth=self._auth(key), base_url=self.settings.api_url, timeout=self.timeout, retry=None,
                seconds_between_requests=None, seconds_between_writes=None, lazy=True)
        return self._connections[key]

    def _key(self, installation_id: int | None) -> int | None:
        return installation_id if self.settings.app_id else None

    def admit(self, installation_id: int | None, writes: int = 0) -> None:
        """Raise RetryLater unless a request with `writes` content-creating calls may go now."""
        self.limiter.admit(self._key(installation_id), writes)

    def after_call(self, installation_id: int | None, failure: BaseException | None) -> None:
        """Tell the limiter what GitHub said: its Retry-After, or a spent primary budget."""
        key = self._key(installation_id)
        if isinstance(failure, RetryLater) and failure.rate_limited:
            self.limiter.hold(key, failure.seconds)
        connection = self._connections.get(key)
        if connection is not None:
            remaining, _ = connection.requester.rate_limiting
            self.limiter.observe(key, remaining, connection.requester.rate_limiting_resettime)

    def own_login(self) -> str:
        """The login whose marked comments are ours; "" means "any Bot account" (blocking: call in a thread).

        A GitHub App's comments come from its `[bot]` account; a plain token's owner is asked of
        GitHub once. Actions' GITHUB_TOKEN cannot read /user, but it comments as a Bot too.
        """
        if self.bot_login or self.settings.app_id:
            return self.bot_login
        if self._login is None:
            try:
                self._login = self.call(lambda: self.connection(None).get_user().login)
            except PermanentGitHubError:
                self._login = ""
        return self._login

    def _auth(self, installation_id: int | None) -> Auth.Auth:
        if self.settings.app_id and self.settings.private_key:
            if installation_id is None:
                raise PermanentGitHubError(0, "an installation id is needed with GitHub App credentials")
            app = Auth.AppAuth(self.settings.app_id, self.settings.private_key)
            return app.get_installation_auth(installation_id)
        if self.settings.token:
            return Auth.Token(self.settings.token)
        raise PermanentGitHubError(0, "set GITHUB_TOKEN or GITHUB_APP_ID with GITHUB_PRIVATE_KEY")

    def call(self, action: Callable[[], T]) -> T:
        """Runs one blocking PyGithub action, translating its failure into a typed one."""
        with translate_errors():
            return action()


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def retry_delay(status: int, headers: Mapping[str, Any] | None, message: str, now: float) -> float | None:
    """Seconds to wait before retrying, or None when the failure is permanent."""
    retry_after = _header(headers, "retry-after")
    if retry_after and retry_after.strip().isdigit():
        return min(max(float(retry_after), 1.0), MAX_RETRY_SECONDS)
    reset = _header(headers, "x-ratelimit-reset")
    if _header(headers, "x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return min(max(math.ceil(int(reset) - now), 1.0), MAX_RETRY_SECONDS)
    if status == 429 or (status == 403 and "rate limit" in message.lower()):
        return SECONDARY_LIMIT_RETRY_SECONDS
    if status >= 500:
        return SERVER_ERROR_RETRY_SECONDS
    return None


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return " ".join(str(data.get("message") or exc.message or "no message").split())[:300]


@contextmanager
def translate_errors() -> Iterator[None]:
    try:
        yield
    except GithubException as exc:
        message = _message(exc)
        delay = retry_delay(exc.status, exc.headers, message, time.time())
        if delay is None:
            raise PermanentGitHubError(exc.status, message) from exc
        limited = exc.status in (403, 429) or _header(exc.headers, "retry-after") is not None
        raise RetryLater(delay, f"{exc.status} {message}", rate_limited=limited) from exc
    except requests.RequestException as exc:
        raise RetryLater(SERVER_ERROR_RETRY_SECONDS, f"connection failed: {type(exc).__name__}") from exc
