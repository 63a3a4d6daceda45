"""A client of the running fake GitHub (the root conftest's `fake_github`), for the tests of `grader.github`."""

from __future__ import annotations

import pytest

from grader.github.client import GitHubClient
from grader.settings import GitHubSettings
from tests.conftest import FAKE_GITHUB_TOKEN
from tests.fakegithub.server import FakeGitHub

REPO = "octo-org/hello-world"
PR_NUMBER = 7


@pytest.fixture
def client(fake_github: FakeGitHub) -> GitHubClient:
    fake_github.pulls[(REPO, PR_NUMBER)] = "0" * 40
    settings = GitHubSettings(api_url=fake_github.base_url, token=FAKE_GITHUB_TOKEN)
    return GitHubClient(settings, timeout=5)
