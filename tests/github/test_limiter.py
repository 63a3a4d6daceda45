"""GitHub pacing that never sleeps: the limiter admits a request or says when it could go, per
installation, under GitHub's content-creation limits, its Retry-After and its primary budget."""

from __future__ import annotations

import time

import pytest

from grader.github.client import GitHubClient
from grader.github.errors import RetryLater
from grader.github.limiter import GitHubLimiter
from grader.github.publisher import PublishState, PublishTarget
from tests.fakegithub.server import FakeGitHub
from tests.feedback.factories import failing_result
from tests.github.conftest import PR_NUMBER, REPO
from tests.support.publishing import post, publish_result


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock, **limits: int) -> GitHubLimiter:
    return GitHubLimiter(clock=clock, wall_clock=lambda: 1_700_000_000 + clock.now, **limits)


def test_limiter__the_81st_write_in_a_minute_is_told_when_to_retry_at_once():
    clock = Clock()
    limiter = _limiter(clock)
    for _ in range(80):
        limiter.admit(7, writes=1)
        clock.now += 0.1
    started = time.monotonic()
    with pytest.raises(RetryLater) as refused:
        limiter.admit(7, writes=1)
    assert time.monotonic() - started < 0.05  # decided, not slept
    assert refused.value.seconds == pytest.approx(60 - 8.0, abs=0.01)  # the first write leaves the window
    assert refused.value.rate_limited
    clock.now += refused.value.seconds + 0.01
    limiter.admit(7, writes=1)


def test_limiter__the_hourly_limit_holds_after_the_minute_ones_pass():
    clock = Clock()
    limiter = _limiter(clock, per_minute=80, per_hour=500)
    for _ in range(500):
        limiter.admit(None, writes=1)
        clock.now += 1.0  # 60 a minute: under the minute's limit
    with pytest.raises(RetryLater) as refused:
        limiter.admit(None, writes=1)
    assert refused.value.seconds == pytest.approx(3600 - 500, abs=0.01)


def test_limiter__installations_have_their_own_budgets():
    clock = Clock()
    limiter = _limiter(clock, per_minute=2)
    limiter.admit(1, writes=2)
    with pytest.raises(RetryLater):
        limiter.admit(1, writes=1)
    limiter.admit(2, writes=2)


def test_limiter__a_request_of_several_writes_waits_until_all_fit():
    clock = Clock()
    limiter = _limiter(clock, per_minute=5)
    limiter.admit(1, writes=3)
    clock.now += 10
    limiter.admit(1, writes=1)
    with pytest.raises(RetryLater) as refused:
        limiter.admit(1, writes=3)  # needs the three oldest gone
    assert refused.value.seconds == pytest.approx(50)


def test_limiter__retry_after_holds_writes_and_reads_of_the_installation():
    clock = Clock()
    limiter = _limiter(clock)
    limiter.hold(3, 120)
    for writes in (0, 1):
        with pytest.raises(RetryLater) as refused:
            limiter.admit(3, writes=writes)
        assert refused.value.seconds == pytest.approx(120)
    limiter.admit(4, writes=0)
    clock.now += 121
    limiter.admit(3, writes=0)


def test_limiter__reads_are_never_paced():
    clock = Clock()
    limiter = _limiter(clock, per_minute=1)
    limiter.admit(1, writes=1)
    for _ in range(1000):
        limiter.admit(1, writes=0)


def test_limiter__a_spent_primary_budget_holds_until_its_reset():
    clock = Clock()
    limiter = _limiter(clock)
    limiter.observe(1, remaining=10, reset_epoch=1_700_000_000 + 2000)
    limiter.admit(1, writes=1)
    limiter.observe(1, remaining=0, reset_epoch=int(1_700_000_000 + clock.now + 300))
    with pytest.raises(RetryLater) as refused:
        limiter.admit(1, writes=0)
    assert refused.value.seconds == pytest.approx(300)


def _target() -> PublishTarget:
    return PublishTarget(repo=REPO, pr_number=PR_NUMBER, head_sha="1" * 40)


async def test_publish__past_the_limit_comes_back_to_retry_without_a_request(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    client.limiter = GitHubLimiter(per_minute=3)
    await post(client, _target(), failing_result(), PublishState())  # create + complete check, comment: 3
    sent = len(fake_github.requests)
    outcome = await publish_result(client, _target(), failing_result(), PublishState())
    assert outcome.retry is not None
    assert 50 < outcome.retry.seconds <= 60
    assert len(fake_github.requests) == sent


async def test_publish__github_retry_after_holds_the_next_publish_without_a_request(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("checks/create", 403, headers={"Retry-After": "90"}, message="secondary rate limit")
    first = await publish_result(client, _target(), failing_result(), PublishState())
    assert first.retry is not None
    assert first.retry.seconds == 90
    sent = len(fake_github.requests)
    second = await publish_result(client, _target(), failing_result(), PublishState())
    assert second.retry is not None
    assert 85 < second.retry.seconds <= 90
    assert len(fake_github.requests) == sent
