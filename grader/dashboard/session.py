"""The dashboard's login session: a cookie naming an API token, signed with a key only that token opens.

The signing key is derived from the token's stored hash, so the cookie needs no server-side secret
setting, survives restarts, works across processes, and dies the moment the token is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import ApiToken

COOKIE_NAME = "grader_dashboard"
SESSION_SECONDS = 12 * 3600
_PURPOSE = b"grader dashboard session v1"


@dataclass(frozen=True)
class SessionClaim:
    token_id: int
    expires_at: int
    signature: str


def _key(token_hash: str) -> bytes:
    return hmac.new(bytes.fromhex(token_hash), _PURPOSE, hashlib.sha256).digest()


def _signature(token_id: int, expires_at: int, token_hash: str) -> str:
    return hmac.new(_key(token_hash), f"{token_id}.{expires_at}".encode(), hashlib.sha256).hexdigest()


def session_cookie_value(token: ApiToken, now: float | None = None) -> str:
    expires_at = int(now if now is not None else time.time()) + SESSION_SECONDS
    return f"{token.id}.{expires_at}.{_signature(token.id, expires_at, token.token_hash)}"


def parse_cookie(value: str) -> SessionClaim | None:
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 10:
        return None
    return SessionClaim(int(parts[0]), int(parts[1]), parts[2])


async def verified_token_id(session: AsyncSession, cookie: str | None,
                            now: float | None = None) -> int | None:
    """The id of the active token the cookie was signed for, or None (absent, forged, expired, revoked)."""
    claim = parse_cookie(cookie) if cookie else None
    if claim is None or claim.expires_at < (now if now is not None else time.time()):
        return None
    token = await session.scalar(select(ApiToken).where(ApiToken.id == claim.token_id,
                                                        ApiToken.revoked_at.is_(None)))
    if token is None:
        return None
    expected = _signature(claim.token_id, claim.expires_at, token.token_hash)
    return token.id if hmac.compare_digest(expected, claim.signature) else None
