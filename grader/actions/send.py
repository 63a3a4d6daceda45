"""The workflow's side of reporting: ask GitHub for an OIDC token, post the report to the service.

Plain urllib on purpose: it runs on a fresh runner with only the grader package installed, and it
makes two requests.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from grader.errors import CommandError
from grader.settings import ActionsSettings

REQUEST_TIMEOUT_SECONDS = 30
REPORT_PATH = "/api/workflow-reports"


class NoOidcTokenError(Exception):
    """GitHub gave this run no way to request a token (a fork's PR, or id-token not granted)."""


def _http_url(url: str, what: str) -> str:
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise CommandError(f"{what} must be an http(s) URL, got {url!r}")
    return url


def _json_request(request: urllib.request.Request, what: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body if isinstance(body, dict) else {}
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise CommandError(f"{what} failed: {getattr(exc, 'reason', exc)}") from None


def request_oidc_token(audience: str, actions: ActionsSettings) -> str:
    """Ask the Actions runtime for a token with `audience` (needs `id-token: write`)."""
    url, bearer = actions.id_token_request_url, actions.id_token_request_token
    if not url or not bearer:
        raise NoOidcTokenError
    separator = "&" if "?" in url else "?"
    full_url = _http_url(f"{url}{separator}{urllib.parse.urlencode({'audience': audience})}",
                         "ACTIONS_ID_TOKEN_REQUEST_URL")
    request = urllib.request.Request(full_url, headers={"Authorization": f"Bearer {bearer}",  # noqa: S310
                                                        "Accept": "application/json"})
    status, body = _json_request(request, "the OIDC token request")
    token = body.get("value")
    if status != 200 or not isinstance(token, str):
        raise CommandError(f"GitHub did not issue an OIDC token (HTTP {status})")
    return token


def post_report(service_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST the report; a refusal becomes a CommandError carrying the service's one-line reason."""
    url = _http_url(service_url.rstrip("/") + REPORT_PATH, "--service-url")
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    status, answer = _json_request(request, "sending the report")
    if status != 201:
        reason = answer.get("error", "no reason given")
        raise CommandError(f"the service refused the report (HTTP {status}): {reason}")
    return answer
