"""GRADER_OIDC_* settings: off by default, and a bad value stops start-up naming the variable."""

from __future__ import annotations

import pytest

from grader.settings import SettingsError, load_settings

ENABLED = {"GRADER_OIDC_AUDIENCE": "https://grader.example.test/", "GRADER_OIDC_WORKFLOW_REF": "a/b/x.yml@v1",
           "GRADER_OIDC_REPOSITORIES": "course-2026/*, course-2027/*"}


def test_settings__read_and_normalised() -> None:
    settings = load_settings({**ENABLED, "GRADER_OIDC_ISSUER": "https://issuer.example/",
                                   "GRADER_OIDC_JWKS_CACHE_SECONDS": "60"}).oidc

    assert settings.enabled
    assert settings.audience == "https://grader.example.test"
    assert settings.jwks_url == "https://issuer.example/.well-known/jwks"
    assert settings.repositories == ("course-2026/*", "course-2027/*")
    assert settings.jwks_cache_seconds == 60.0


def test_settings__empty_environment_leaves_the_intake_off() -> None:
    assert not load_settings({}).oidc.enabled


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"GRADER_OIDC_ISSUER": "token.actions.githubusercontent.com"},
         "GRADER_OIDC_ISSUER must be an http(s) URL, got 'token.actions.githubusercontent.com'"),
        ({"GRADER_OIDC_JWKS_CACHE_SECONDS": "soon"},
         "GRADER_OIDC_JWKS_CACHE_SECONDS must be a positive number, got 'soon'"),
        ({"GRADER_OIDC_JWKS_CACHE_SECONDS": "0"},
         "GRADER_OIDC_JWKS_CACHE_SECONDS must be a positive number, got '0'"),
        ({"GRADER_OIDC_REPOSITORIES": " "},
         "GRADER_OIDC_REPOSITORIES must list the course's repositories (e.g. org/*) "
         "when GRADER_OIDC_AUDIENCE is set"),
    ],
)
def test_settings__bad_value_is_one_line_naming_it(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**ENABLED, **overrides})

    assert str(caught.value) == message
