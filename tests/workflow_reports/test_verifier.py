"""OIDC verification against a JWKS served over HTTP, with keys made in the test."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from grader.settings import OidcSettings
from grader.workflow_reports.oidc import JwksUnavailableError, OidcError, OidcVerifier
from tests.workflow_reports.issuer import REPOSITORY, WORKFLOW_REF, Issuer


def _rejection(verifier: OidcVerifier, token: str, kind: type[OidcError] = OidcError) -> str:
    with pytest.raises(kind) as caught:
        verifier.verify(token)
    return str(caught.value)


def test_verify__valid_token_is_accepted_with_its_identity(issuer: Issuer) -> None:
    identity = OidcVerifier(issuer.settings()).verify(issuer.token())

    assert identity.repository == REPOSITORY
    assert identity.repository_id == 4242
    assert identity.pull_request_number == 7
    assert identity.actor == "alice"
    assert identity.job_workflow_ref == WORKFLOW_REF


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://someone-else.example"}, "the token's audience is not this service"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900, "nbf": int(time.time()) - 900},
         "the token has expired"),
        ({"job_workflow_ref": "course-2026/alice-sqlalchemy/.github/workflows/grade.yml@refs/pull/7/merge"},
         "the run used workflow course-2026/alice-sqlalchemy/.github/workflows/grade.yml@refs/pull/7/merge, "
         "not the course's pinned reusable workflow"),
        ({"job_workflow_ref": "course/grader/.github/workflows/grade.yml@refs/heads/main"},
         "the run used workflow course/grader/.github/workflows/grade.yml@refs/heads/main, "
         "not the course's pinned reusable workflow"),
        ({"repository": "mallory/elsewhere"},
         "repository mallory/elsewhere is not one of this course's repositories"),
        ({"iss": "https://issuer.example"}, "the token was not issued by the configured issuer"),
        ({"event_name": "pull_request_target"},
         "the run was triggered by 'pull_request_target', not by a pull_request event"),
        ({"ref": "refs/heads/main"}, "the token's ref is not a pull request ref (refs/pull/N/merge)"),
        ({"job_workflow_ref": None}, "the token has no 'job_workflow_ref' claim"),
    ],
    ids=["wrong-audience", "expired", "workflow-of-the-student", "unpinned-workflow-ref", "wrong-repository",
         "wrong-issuer", "not-a-pull-request", "not-a-pr-ref", "no-workflow-ref"],
)
def test_verify__rejects_with_a_one_line_reason(issuer: Issuer, claims: dict[str, object],
                                                reason: str) -> None:
    assert _rejection(OidcVerifier(issuer.settings()), issuer.token(**claims)) == reason


def test_verify__bad_signature_is_rejected(issuer: Issuer, other_key: rsa.RSAPrivateKey) -> None:
    forged = issuer.token(key=other_key)  # same key id, a key the issuer never published

    assert _rejection(OidcVerifier(issuer.settings()), forged) == (
        "the token's signature does not verify against the issuer's keys")


def test_verify__unknown_key_id_is_rejected(issuer: Issuer, other_key: rsa.RSAPrivateKey) -> None:
    assert _rejection(OidcVerifier(issuer.settings()), issuer.token(key=other_key, kid="key-elsewhere")) == (
        "the token's signing key is not in the issuer's JWKS")


def test_verify__garbage_is_rejected(issuer: Issuer) -> None:
    assert _rejection(OidcVerifier(issuer.settings()), "not.a.jwt") == (
        "the token is not a well-formed signed JWT")


def test_verify__unsigned_token_is_rejected(issuer: Issuer) -> None:
    unsigned = jwt.encode(issuer.claims(), key=None, algorithm="none", headers={"kid": issuer.kid})

    assert _rejection(OidcVerifier(issuer.settings()), unsigned) == (
        "the token is not signed with RS256")


def test_verify__jwks_is_fetched_once_and_cached(issuer: Issuer) -> None:
    verifier = OidcVerifier(issuer.settings())

    for _ in range(3):
        verifier.verify(issuer.token())

    assert issuer.fetches == 1


def test_verify__unreachable_jwks_is_an_availability_error(issuer: Issuer) -> None:
    settings = issuer.settings(jwks_url="http://127.0.0.1:9/.well-known/jwks")

    assert _rejection(OidcVerifier(settings), issuer.token(), JwksUnavailableError) == (
        "the issuer's JWKS cannot be fetched; try again later")


def test_settings__default_is_github_and_disabled() -> None:
    settings = OidcSettings()

    assert settings.issuer == "https://token.actions.githubusercontent.com"
    assert settings.jwks_url == "https://token.actions.githubusercontent.com/.well-known/jwks"
    assert not settings.enabled
