"""End to end: a signed pull_request delivery to a running `grader serve` → job → container run →
one comment on the (fake) GitHub, edited in place on the next push, and a completed check run."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import WEBHOOK_SECRET
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.server import serve as serve_fake_github
from tests.support.docker import IMAGE
from tests.support.polling import eventually_sync
from tests.support.webhooks import pull_request_payload, signed_delivery

pytestmark = [pytest.mark.docker, pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
TOKEN = "e2e-token"


def push(base_url: str, action: str, sha: str) -> httpx.Response:
    payload = pull_request_payload(action, sha=sha, number=12, repo_id=4242)
    body, headers = signed_delivery(payload, secret=WEBHOOK_SECRET)
    return httpx.post(f"{base_url}/webhooks/github", content=body, headers=headers, timeout=10)


def wait_for_comment_on(fake: FakeGitHub, repo: str, sha: str, timeout: float = 600) -> list[dict]:
    def commented() -> list[dict] | None:
        comments = fake.comments_on(repo, 12)
        completed = [run for run in fake.check_runs.values()
                     if run.get("head_sha") == sha and run.get("status") == "completed"]
        return comments if completed and any(sha in comment["body"] for comment in comments) else None

    return eventually_sync(commented, timeout=timeout, interval=0.5, what=f"a comment and a completed check for {sha}")


def test_pull_request__graded_once_commented_once_and_the_next_push_edits_the_same_comment(
        serve, database_url, runner_settings, tmp_path):
    repo = "course/repo-4242"
    first_sha, second_sha = "a1" * 20, "b2" * 20
    fake = FakeGitHub(token=TOKEN)
    fake.add_tarball(repo, first_sha, FIXTURES / "clean")
    fake.add_tarball(repo, second_sha, FIXTURES / "lint_errors")  # a failing check: remediation links
    fake.pulls[(repo, 12)] = first_sha
    with serve_fake_github(fake):
        service = serve(database_url, GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET, GITHUB_API_URL=fake.base_url,
                        GITHUB_TOKEN=TOKEN, GRADER_WORKERS="1", GRADER_POLL_SECONDS="0.2", GRADER_IMAGE=IMAGE)
        assert push(service.base_url, "opened", first_sha).status_code == 202
        [comment] = wait_for_comment_on(fake, repo, first_sha)
        fake.pulls[(repo, 12)] = second_sha
        assert push(service.base_url, "synchronize", second_sha).status_code == 202
        comments = wait_for_comment_on(fake, repo, second_sha)

    assert [c["id"] for c in comments] == [comment["id"]], "one comment, edited in place"
    body = comments[0]["body"]
    assert second_sha in body
    assert first_sha not in body
    assert "https://" in body  # remediation links to the lesson's sections
    runs = {run["head_sha"]: run for run in fake.check_runs.values()}
    assert runs[first_sha]["status"] == runs[second_sha]["status"] == "completed"
    assert runs[second_sha]["conclusion"] in {"success", "failure", "neutral"}
    assert fake.rejections == []
    assert fake.count("issues/create-comment") == 1
