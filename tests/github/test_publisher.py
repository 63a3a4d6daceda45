"""Publishing over real HTTP to the fake GitHub: one comment edited in place, a completed check run."""

from __future__ import annotations

import time

import pytest

from grader.github.client import GitHubClient
from grader.github.comments import MARKER, described_sha
from grader.github.errors import PermanentGitHubError, RetryLater
from grader.github.publisher import PublishState, PublishTarget, mark_check_in_progress
from grader.settings import GitHubSettings
from tests.fakegithub.server import BOT, FakeGitHub
from tests.feedback.factories import failing_result, passing_result
from tests.github.conftest import PR_NUMBER, REPO
from tests.support.publishing import post, publish_result

SHA_1 = "1" * 40
SHA_2 = "2" * 40


def _target(sha: str = SHA_1, latest: str | None = None) -> PublishTarget:
    return PublishTarget(repo=REPO, pr_number=PR_NUMBER, head_sha=sha, latest_head_sha=latest)


def _bodies(fake: FakeGitHub) -> list[str]:
    return [comment["body"] for comment in fake.comments_on(REPO, PR_NUMBER)]


async def test_publish__creates_one_marked_comment_and_completes_the_check(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    state = await post(client, _target(), failing_result("ru"), PublishState())

    (body,) = _bodies(fake_github)
    assert body.startswith(MARKER)
    assert described_sha(body) == SHA_1
    assert "Оценка C" in body
    assert "https://textbook.example.org/sqlalchemy-async#sa1" in body
    run = fake_github.check_runs[state.check_run_id]
    assert (run["status"], run["conclusion"], run["head_sha"]) == ("completed", "failure", SHA_1)
    assert len(run["annotations"]) == 3
    assert state.comment_sha == SHA_1


async def test_publish__second_push_edits_the_same_comment(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    first = await post(client, _target(SHA_1), failing_result(), PublishState())
    pr_state = PublishState(comment_id=first.comment_id, comment_sha=first.comment_sha)
    second = await post(client, _target(SHA_2, latest=SHA_2), passing_result(), pr_state)

    (comment,) = fake_github.comments_on(REPO, PR_NUMBER)
    assert second.comment_id == first.comment_id == comment["id"]
    assert described_sha(comment["body"]) == SHA_2
    assert "Оценка S" in comment["body"]
    assert second.check_run_id != first.check_run_id


async def test_publish__finds_its_comment_by_marker_when_the_id_was_lost(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    first = await post(client, _target(SHA_1), failing_result(), PublishState())
    await post(client, _target(SHA_2), passing_result(), PublishState())

    assert [c["id"] for c in fake_github.comments_on(REPO, PR_NUMBER)] == [first.comment_id]


async def test_publish__a_students_comment_with_the_marker_is_not_taken_over(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.add_comment(REPO, PR_NUMBER, f"{MARKER} fake grade S")

    await post(client, _target(), passing_result(), PublishState())

    bodies = _bodies(fake_github)
    assert bodies[0] == f"{MARKER} fake grade S"
    assert len(bodies) == 2


async def test_publish__a_502_after_storing_never_makes_a_second_comment(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("issues/create-comment", 502, after_store=True)

    state = await post(client, _target(), failing_result(), PublishState())
    await post(client, _target(), failing_result(), PublishState())

    assert len(_bodies(fake_github)) == 1
    assert state.comment_id == fake_github.comments_on(REPO, PR_NUMBER)[0]["id"]


async def test_publish__a_502_before_storing_asks_to_retry_and_the_retry_creates_it(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("issues/create-comment", 502)

    interrupted = await publish_result(client, _target(), failing_result(), PublishState())
    state = await post(client, _target(), failing_result(), interrupted.state)

    assert interrupted.retry is not None
    assert interrupted.retry.seconds == 30
    assert len(_bodies(fake_github)) == 1
    assert state.comment_id is not None


@pytest.mark.parametrize(("status", "headers", "seconds"), [
    (429, {"Retry-After": "17"}, 17),
    (403, {"Retry-After": "5"}, 5),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "{reset}"}, 120),
])
async def test_publish__rate_limits_become_retry_later_without_waiting(
        client: GitHubClient, fake_github: FakeGitHub, status: int, headers: dict[str, str],
        seconds: int) -> None:

    reset = str(int(time.time()) + 120)
    fake_github.inject("issues/list-comments", status, message="API rate limit exceeded",
                       headers={k: v.format(reset=reset) for k, v in headers.items()})
    started = time.monotonic()

    outcome = await publish_result(client, _target(), failing_result(), PublishState())

    assert isinstance(outcome.retry, RetryLater)
    assert abs(outcome.retry.seconds - seconds) <= 2
    assert time.monotonic() - started < 5
    assert _bodies(fake_github) == []


async def test_publish__a_missing_pull_request_is_permanent_and_the_check_run_is_still_completed(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    missing = PublishTarget(repo=REPO, pr_number=999, head_sha=SHA_1)

    with pytest.raises(PermanentGitHubError) as raised:
        await post(client, missing, failing_result(), PublishState())

    assert raised.value.status == 404
    [run] = fake_github.check_runs.values()
    assert (run["status"], run["conclusion"]) == ("completed", "failure")


async def test_publish__an_older_sha_never_replaces_the_newer_comment(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    newer = await post(client, _target(SHA_2, latest=SHA_2), passing_result(), PublishState())
    older = await post(client, _target(SHA_1, latest=SHA_2), failing_result(),
                          PublishState(comment_id=newer.comment_id, comment_sha=SHA_2))

    (body,) = _bodies(fake_github)
    assert described_sha(body) == SHA_2
    assert older.comment_sha == SHA_2
    assert fake_github.check_runs[older.check_run_id]["conclusion"] == "failure"


async def test_publish__a_deleted_comment_is_created_again(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    first = await post(client, _target(), failing_result(), PublishState())
    del fake_github.comments[first.comment_id]

    second = await post(client, _target(), failing_result(), first)

    assert second.comment_id != first.comment_id
    assert len(_bodies(fake_github)) == 1


async def test_publish__annotations_go_out_fifty_per_request(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    state = await post(client, _target(), failing_result(lint_count=120), PublishState())

    run = fake_github.check_runs[state.check_run_id]
    assert len(run["annotations"]) == 120
    assert fake_github.count("checks/update") == 3
    assert run["_history"] == ["in_progress", "in_progress", "in_progress", "completed"]


async def test_check__moves_from_in_progress_to_completed(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    state = await mark_check_in_progress(client, _target(), PublishState())
    await post(client, _target(), passing_result(), state)

    run = fake_github.check_runs[state.check_run_id]
    assert run["_history"] == ["in_progress", "completed"]
    assert run["conclusion"] == "success"
    assert run["output"]["title"].startswith("Оценка S")


async def test_publish__comment_author_is_the_bot(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    await post(client, _target(), passing_result(), PublishState())

    assert fake_github.comments_on(REPO, PR_NUMBER)[0]["user"] == BOT


async def test_check__a_502_after_storing_reuses_the_stored_check_run(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("checks/create", 502, after_store=True)

    state = await mark_check_in_progress(client, _target(), PublishState())
    await post(client, _target(), passing_result(), state)

    assert list(fake_github.check_runs) == [state.check_run_id]
    assert fake_github.check_runs[state.check_run_id]["status"] == "completed"


async def test_publish__with_a_personal_token_only_that_users_marked_comment_is_ours(
        fake_github: FakeGitHub) -> None:
    fake_github.token_user = {"login": "ta-account", "id": 5, "type": "User"}
    fake_github.add_comment(REPO, PR_NUMBER, f"{MARKER} a student's copy")
    client = GitHubClient(GitHubSettings(api_url=fake_github.base_url, token="test-token"))

    first = await post(client, _target(SHA_1), failing_result(), PublishState())
    second = await post(client, _target(SHA_2), passing_result(), PublishState())

    assert first.comment_id == second.comment_id
    assert [c["user"]["login"] for c in fake_github.comments_on(REPO, PR_NUMBER)] == ["student", "ta-account"]
    assert fake_github.count("users/get-authenticated") == 1


async def test_publish__a_token_refused_check_runs_still_gets_its_comment(
        client: GitHubClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("checks/create", 403, message="Resource not accessible by personal access token")

    outcome = await publish_result(client, _target(), failing_result(), PublishState())

    assert outcome.retry is None
    assert "403" in outcome.check_run_refused
    assert len(_bodies(fake_github)) == 1
    assert outcome.state.comment_id is not None
    assert fake_github.check_runs == {}
