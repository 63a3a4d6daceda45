"""Authentication (App installation tokens or a plain token) and the translation of failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from grader.github.client import GitHubClient, retry_delay
from grader.github.errors import PermanentGitHubError
from grader.github.publisher import PublishState, PublishTarget
from grader.settings import GitHubSettings
from tests.fakegithub.server import FakeGitHub, serve
from tests.feedback.factories import passing_result
from tests.github.conftest import PR_NUMBER, REPO
from tests.support.publishing import post

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("status", "headers", "message", "expected"), [
    (502, {}, "Bad Gateway", 30.0),
    (429, {"Retry-After": "12"}, "", 12.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 90)}, "", 90.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 99999)}, "", 3600.0),
    (403, {}, "You have exceeded a secondary rate limit", 60.0),
    (403, {}, "Resource not accessible by integration", None),
    (404, {}, "Not Found", None),
    (422, {}, "Validation Failed", None),
])
def test_retry_delay__classifies_failures(status: int, headers: dict[str, str], message: str,
                                          expected: float | None) -> None:
    assert retry_delay(status, headers, message, NOW) == expected


@pytest.fixture
def app_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def app_fake(app_key: tuple[str, str]) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(token="unused", app_id="4242", public_key=app_key[1])
    with serve(fake):
        yield fake
    assert fake.rejections == []


async def test_app_auth__one_installation_token_serves_several_publishes(
        app_fake: FakeGitHub, app_key: tuple[str, str]) -> None:
    settings = GitHubSettings(api_url=app_fake.base_url, app_id="4242", private_key=app_key[0])
    client = GitHubClient(settings)
    target = PublishTarget(repo=REPO, pr_number=PR_NUMBER, head_sha="c" * 40, installation_id=77)

    await post(client, target, passing_result(), PublishState())
    await post(client, target, passing_result(), PublishState())

    assert app_fake.count("apps/create-installation-access-token") == 1
    assert list(app_fake.installation_tokens.values()) == [77]
    assert len(app_fake.comments_on(REPO, PR_NUMBER)) == 1


async def test_app_auth__a_wrong_key_is_a_permanent_failure(app_fake: FakeGitHub) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    client = GitHubClient(GitHubSettings(api_url=app_fake.base_url, app_id="4242", private_key=other))
    target = PublishTarget(repo=REPO, pr_number=PR_NUMBER, head_sha="c" * 40, installation_id=77)

    with pytest.raises(PermanentGitHubError) as raised:
        await post(client, target, passing_result(), PublishState())

    assert raised.value.status == 401


def test_client__html_url_follows_the_api_url() -> None:
    assert GitHubClient(GitHubSettings()).html_url == "https://github.com"
    enterprise = GitHubSettings(api_url="https://ghe.example.com/api/v3")
    assert GitHubClient(enterprise).html_url == "https://ghe.example.com"
