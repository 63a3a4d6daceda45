"""Security headers on every response: a strict Content-Security-Policy and the usual companions.

The dashboard's pages are server-rendered HTML with one stylesheet of our own and no script, so the
policy allows exactly that: styles from this origin, forms posting to this origin, no frames, no
plugins, no scripts at all. JSON responses carry the same headers; they cost nothing there.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# Only over TLS (as seen through the trusted front's X-Forwarded-Proto): browsers ignore it on http.
HSTS = (b"strict-transport-security", b"max-age=31536000")


def security_headers(app: ASGIApp) -> ASGIApp:
    """Litestar middleware adding HEADERS to each HTTP response that does not set them itself."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        extra = [*HEADERS, HSTS] if scope.get("scheme") == "https" else HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(name, value) for name, value in extra if name not in present]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
