"""Settings of the workflow-report intake, read from the environment once when the app is built.

The intake is off until `GRADER_OIDC_AUDIENCE` is set; then the pinned workflow and the allowed
repositories must be named too, because a token from any other workflow or repository is a
student's own script and proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from grader.settings import SettingsError

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_JWKS_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class OidcSettings:
    audience: str = ""
    issuer: str = GITHUB_ACTIONS_ISSUER
    jwks_url: str = f"{GITHUB_ACTIONS_ISSUER}/.well-known/jwks"
    # Exact `job_workflow_ref` values, e.g. "course/grader/.github/workflows/grade.yml@refs/tags/v1".
    workflow_refs: tuple[str, ...] = ()
    # Shell-style patterns of `repository` claims, e.g. "course-2026/*".
    repositories: tuple[str, ...] = ()
    jwks_cache_seconds: float = DEFAULT_JWKS_CACHE_SECONDS
    leeway_seconds: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.audience)


def _items(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip().rstrip("/") or default
    if not value.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _cache_seconds(env: Mapping[str, str]) -> float:
    raw = env.get("GRADER_OIDC_JWKS_CACHE_SECONDS", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_JWKS_CACHE_SECONDS
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SettingsError(f"GRADER_OIDC_JWKS_CACHE_SECONDS must be a positive number, got {raw!r}")
    return value


def load_oidc_settings(env: Mapping[str, str] | None = None) -> OidcSettings:
    """Read the GRADER_OIDC_* variables; raise SettingsError naming the first bad one."""
    env = os.environ if env is None else env
    audience = env.get("GRADER_OIDC_AUDIENCE", "").strip().rstrip("/")
    issuer = _url(env, "GRADER_OIDC_ISSUER", GITHUB_ACTIONS_ISSUER)
    settings = OidcSettings(
        audience=audience,
        issuer=issuer,
        jwks_url=_url(env, "GRADER_OIDC_JWKS_URL", f"{issuer}/.well-known/jwks"),
        workflow_refs=_items(env, "GRADER_OIDC_WORKFLOW_REF"),
        repositories=_items(env, "GRADER_OIDC_REPOSITORIES"),
        jwks_cache_seconds=_cache_seconds(env),
    )
    if settings.enabled and not settings.workflow_refs:
        raise SettingsError("GRADER_OIDC_WORKFLOW_REF must name the pinned reusable workflow "
                            "when GRADER_OIDC_AUDIENCE is set")
    if settings.enabled and not settings.repositories:
        raise SettingsError("GRADER_OIDC_REPOSITORIES must list the course's repositories (e.g. org/*) "
                            "when GRADER_OIDC_AUDIENCE is set")
    return settings
