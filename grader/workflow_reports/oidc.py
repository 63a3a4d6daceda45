"""Verify a GitHub Actions OIDC token: who ran which workflow for which pull request.

The signature is checked against the issuer's JWKS (fetched once and cached; a key id we have not
seen makes one refetch, rate-limited by PyJWT's cool-down), then issuer, audience and expiry, then
the claims that tie the run to the course: the repository and the pinned reusable workflow.
Every rejection is an `OidcError` whose message is one line saying why.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import jwt

from grader.settings import OidcSettings

# GitHub signs with RS256 only; accepting anything else would invite algorithm confusion.
ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "repository", "repository_id", "job_workflow_ref", "ref",
                   "event_name", "actor"]
_PULL_REQUEST_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


class OidcError(Exception):
    """The token is not acceptable; the message says why in one line."""


class JwksUnavailableError(OidcError):
    """The issuer's keys cannot be fetched: our problem (or the issuer's), not the caller's."""


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
    if claims["event_name"] != "pull_request":
        raise OidcError(f"the run was triggered by {claims['event_name']!r}, not by a pull_request event")
    match = _PULL_REQUEST_REF.match(str(claims["ref"]))
    if match is None:
        raise OidcError("the token's ref is not a pull request ref (refs/pull/N/merge)")
    try:
        repository_id = int(claims["repository_id"])
    except (TypeError, ValueError):
        raise OidcError("the token's repository_id is not a number") from None
    return WorkflowIdentity(repository=str(claims["repository"]), repository_id=repository_id,
                            pull_request_number=int(match.group(1)), actor=str(claims["actor"]),
                            job_workflow_ref=str(claims["job_workflow_ref"]),
                            run_id=str(claims.get("run_id", "")))
