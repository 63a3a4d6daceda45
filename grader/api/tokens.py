"""Instructor API tokens: made by `grader token create NAME` (`grader.commands.tokens`), shown once,
stored only as a SHA-256 hash.

A token is random (256 bits), so a plain SHA-256 is enough to store it: there is nothing to brute-force,
and a lookup by hash needs no per-token salt.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.db.models import ApiToken, TokenScope, utcnow
from grader.db.results import affected_rows

TOKEN_PREFIX = "grd_"  # noqa: S105 - a marker that makes a leaked token recognisable, not a secret
MAX_NAME_LENGTH = 100


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def find_active_token(session: AsyncSession, raw: str) -> ApiToken | None:
    """The unrevoked token whose hash matches `raw`, or None."""
    return await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
    )


async def create_token(sessionmaker: async_sessionmaker[AsyncSession], name: str,
                       scope: TokenScope = TokenScope.READ) -> str:
    """Store a new token under a name no other token has; return the raw token (its only copy).
    `read` (the default) reads; `write` also overrides, regrades and grants extensions."""
    raw = new_token()
    async with sessionmaker() as session, session.begin():
        session.add(ApiToken(name=name, token_hash=hash_token(raw), scope=scope, created_at=utcnow()))
    return raw


async def revoke_token(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> bool:
    """Revoke the named token; False when there is no such unrevoked token."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return affected_rows(result) == 1
