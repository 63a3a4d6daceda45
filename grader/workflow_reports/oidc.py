"""Verify a GitHub Actions OIDC token: who ran which workflow for which pull request.

The signature is checked against the issuer's JWKS (fetched once and cached; a key id we have not
seen makes one refetch, rate-limited by PyJWT's cool-down), then issuer, audience and expiry, then
the claims that tie the run to the course: the repository and the pinned reusable workflow.
Every rejection is an `OidcError` whose message is one line saying why.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from grader.github.shapes import github_id, is_full_name, is_login, pull_request_number
from grader.settings import OidcSettings

# GitHub signs with RS256 only; accepting anything else would invite algorithm confusion.
ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "repository", "repository_id", "job_workflow_ref", "ref",
                   "event_name", "actor"]
_PULL_REQUEST_REF = re.compile(r"refs/pull/([0-9]+)/(?:merge|head)")


class OidcError(Exception):
    """The token is not acceptable; the message says why in one line."""


class JwksUnavailableError(OidcError):
    """The issuer's keys cannot be fetched: our problem (or the issuer's), not the caller's."""


class ClaimShapeError(OidcError):
    """A claim of a correctly signed token is not of the shape GitHub gives it (a 400 naming the claim)."""


@dataclass(frozen=True)
class WorkflowIdentity:
    """What a verified token proves about the run that sent it."""

    repository: str
    repository_id: int
    pull_request_number: int
    actor: str
    job_workflow_ref: str
    run_id: str


_DECODE_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token's audience is not this service"),
    (jwt.InvalidIssuerError, "the token was not issued by the configured issuer"),
    (jwt.InvalidSignatureError, "the token's signature does not verify against the issuer's keys"),
    (jwt.InvalidAlgorithmError, "the token is not signed with RS256"),
    (jwt.DecodeError, "the token is not a well-formed signed JWT"),
]


class OidcVerifier:
    """One per process: it holds the JWKS cache."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, cache_jwk_set=True,
                                     lifespan=settings.jwks_cache_seconds, timeout=10)

    def verify(self, token: str) -> WorkflowIdentity:
        """Blocking (it may fetch the JWKS): call it off the event loop."""
        claims = self._decode(token, self._signing_key(token))
        identity = _identity(claims)
        self._check_course(identity)
        return identity

    def _signing_key(self, token: str) -> Any:
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise JwksUnavailableError("the issuer's JWKS cannot be fetched; try again later") from exc
        except jwt.DecodeError as exc:
            raise OidcError("the token is not a well-formed signed JWT") from exc
        except jwt.PyJWKClientError as exc:
            raise OidcError("the token's signing key is not in the issuer's JWKS") from exc

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            return jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.settings.audience,
                              issuer=self.settings.issuer, leeway=self.settings.leeway_seconds,
                              options={"require": REQUIRED_CLAIMS})
        except jwt.MissingRequiredClaimError as exc:
            raise OidcError(f"the token has no {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise OidcError(_decode_reason(exc)) from exc

    def _check_course(self, identity: WorkflowIdentity) -> None:
        patterns = self.settings.repositories
        if not any(fnmatch.fnmatchcase(identity.repository, pattern) for pattern in patterns):
            raise OidcError(f"repository {identity.repository} is not one of this course's repositories")
        if identity.job_workflow_ref not in self.settings.workflow_refs:
            raise OidcError(f"the run used workflow {identity.job_workflow_ref}, "
                            "not the course's pinned reusable workflow")


def _decode_reason(exc: Exception) -> str:
    return next((reason for kind, reason in _DECODE_REASONS if isinstance(exc, kind)),
                "the token is not valid")


def _identity(claims: dict[str, Any]) -> WorkflowIdentity:
    """What the claims say, each checked against GitHub's shape before it is used or stored."""
    if claims["event_name"] != "pull_request":
        raise OidcError(f"the run was triggered by {str(claims['event_name'])[:50]!r}, "
                        "not by a pull_request event")
    match = _PULL_REQUEST_REF.fullmatch(claims["ref"]) if isinstance(claims["ref"], str) else None
    if match is None:
        raise OidcError("the token's ref is not a pull request ref (refs/pull/N/merge)")
    number = pull_request_number(match.group(1))
    if number is None:
        raise ClaimShapeError("claim 'ref' holds a pull request number GitHub does not give (1 to 2147483647)")
    run_id = claims.get("run_id")
    return WorkflowIdentity(repository=_checked(claims, "repository", is_full_name, "owner/name"),
                            repository_id=_repository_id(claims["repository_id"]), pull_request_number=number,
                            actor=_checked(claims, "actor", is_login, "a GitHub login"),
                            job_workflow_ref=_checked(claims, "job_workflow_ref", _is_workflow_ref, "a workflow ref"),
                            run_id="" if run_id is None else _checked(claims, "run_id", _is_run_id, "a number"))


def _checked(claims: dict[str, Any], name: str, valid: Callable[[object], bool], shape: str) -> str:
    if not valid(claims[name]):
        raise ClaimShapeError(f"claim {name!r} is not {shape}")
    return str(claims[name])


def _repository_id(value: object) -> int:
    repository_id = github_id(value)
    if repository_id is None:
        raise ClaimShapeError("claim 'repository_id' is not a positive 64-bit GitHub id")
    return repository_id


def _is_workflow_ref(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 500 and value.isprintable()


def _is_run_id(value: object) -> bool:
    return github_id(value) is not None
