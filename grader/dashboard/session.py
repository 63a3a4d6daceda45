"""The dashboard's login session: a cookie naming an API token, signed with the server's session secret.

`{token id}.{expiry}.{signature}`, the signature an HMAC under `GRADER_SESSION_SECRET` (which is never
stored in the database) of the token id, the token's stored hash and the expiry. So reading the
`api_tokens` table is not enough to make a cookie; a session ends when its token is revoked (the token
must still be active) or replaced; and an expiry further ahead than one session lifetime is refused
even when correctly signed, so no cookie outlives the lifetime the server allows now.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import ApiToken
from grader.settings import SessionSettings

COOKIE_NAME = "grader_dashboard"
_PURPOSE = "grader dashboard session v2"
_COOKIE = re.compile(r"([0-9]{1,10})\.([0-9]{1,12})\.([0-9a-f]{64})")


@dataclass(frozen=True)
class SessionClaim:
    token_id: int
    expires_at: int
    signature: str


def _signature(secret: str, token_id: int, token_hash: str, expires_at: int) -> str:
    message = f"{_PURPOSE}|{token_id}|{token_hash}|{expires_at}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def session_cookie_value(settings: SessionSettings, token: ApiToken, now: float | None = None) -> str:
    expires_at = int(now if now is not None else time.time()) + settings.lifetime_seconds
    return f"{token.id}.{expires_at}.{_signature(settings.secret, token.id, token.token_hash, expires_at)}"


def parse_cookie(value: str) -> SessionClaim | None:
    match = _COOKIE.fullmatch(value)
    if match is None:
        return None
    return SessionClaim(int(match.group(1)), int(match.group(2)), match.group(3))


async def verified_token_id(session: AsyncSession, settings: SessionSettings, cookie: str | None,
                            now: float | None = None) -> int | None:
    """The id of the active token the cookie was signed for, or None (absent, forged, expired, revoked)."""
    claim = parse_cookie(cookie) if cookie else None
    now = now if now is not None else time.time()
    if claim is None or not now < claim.expires_at <= now + settings.lifetime_seconds:
        return None
    token = await session.scalar(select(ApiToken).where(ApiToken.id == claim.token_id,
                                                        ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    expected = _signature(settings.secret, claim.token_id, token.token_hash, claim.expires_at)
    return token.id if hmac.compare_digest(expected, claim.signature) else None
