"""A running fake GitHub and a client pointed at it, for every test of `grader.github`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.github.client import GitHubClient
from grader.settings import GitHubSettings
from tests.fakegithub.server import FakeGitHub, serve

REPO = "octo-org/hello-world"
PR_NUMBER = 7


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(token="test-token")
    fake.pulls[(REPO, PR_NUMBER)] = "0" * 40
    with serve(fake):
        yield fake
    assert fake.rejections == [], "the grader sent requests GitHub's OpenAPI description does not allow"


@pytest.fixture
def client(fake_github: FakeGitHub) -> GitHubClient:
    settings = GitHubSettings(api_url=fake_github.base_url, token="test-token")
    return GitHubClient(settings, write_interval=0, read_interval=0, timeout=5)
