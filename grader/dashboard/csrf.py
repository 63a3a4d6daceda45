"""Cross-site request forgery: every dashboard form is checked twice before it changes anything.

1. Where it came from: a browser sends `Origin` (or at least `Referer`) with a form post; when either
   is present, its host must be this service's own `Host`. `Origin: null` (a sandboxed frame, a
   redirect through another site) is refused.
2. A form token: each page's forms carry `HMAC(session secret, nonce)`, the nonce being a random value
   in a SameSite=Strict, HttpOnly cookie of the dashboard. Another site can neither read the page to
   copy the token nor make the browser send the cookie along with a post of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException

from grader.dashboard.render import page

CSRF_COOKIE = "grader_csrf"
CSRF_FIELD = "csrf_token"
DASHBOARD_PATH = "/dashboard"
FORGED_MESSAGE = ("This form is out of date or was sent from another site; reload the page and try again.")
_PURPOSE = "grader dashboard form v1"
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")


def form_token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"{_PURPOSE}|{nonce}".encode(), hashlib.sha256).hexdigest()


def is_https(request: Request[Any, Any, Any]) -> bool:
    """As the client sees it: uvicorn takes the scheme from a trusted front's X-Forwarded-Proto."""
    return request.url.scheme == "https"


def same_origin(request: Request[Any, Any, Any]) -> bool:
    """False when the browser says the form came from another host (or will not say where from)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # not a browser: the form token alone decides
    host = request.headers.get("host", "")
    return source != "null" and bool(host) and urlsplit(source).netloc.lower() == host.lower()


def check_form(request: Request[Any, Any, Any], secret: str, submitted: str) -> None:
    """Raise PermissionDeniedException unless the post is same-origin and carries this browser's token."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    token_ok = bool(_NONCE.fullmatch(nonce)) and hmac.compare_digest(form_token(secret, nonce), submitted)
    if not (same_origin(request) and token_ok):
        raise PermissionDeniedException(FORGED_MESSAGE)


def page_with_forms(request: Request[Any, Any, Any], template: str, status_code: int = 200,
                    **context: Any) -> Response[str]:
    """A dashboard page whose forms carry this browser's token (the nonce cookie is set if missing)."""
    secret: str = request.app.state.settings.session.secret
    nonce = request.cookies.get(CSRF_COOKIE, "")
    fresh = not _NONCE.fullmatch(nonce)
    if fresh:
        nonce = secrets.token_urlsafe(32)
    response = page(template, status_code=status_code, csrf_token=form_token(secret, nonce), **context)
    if fresh:
        response.cookies.append(Cookie(key=CSRF_COOKIE, value=nonce, path=DASHBOARD_PATH, httponly=True,
                                       samesite="strict", secure=is_https(request)))
    return response
