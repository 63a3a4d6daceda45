"""Instructor API tokens: made by `grader token create NAME`, shown once, stored only as a SHA-256 hash.

A token is random (256 bits), so a plain SHA-256 is enough to store it: there is nothing to brute-force,
and a lookup by hash needs no per-token salt.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.cli import CommandError
from grader.db.engine import make_engine, make_sessionmaker
from grader.db.models import ApiToken, utcnow
from grader.settings import Settings

TOKEN_PREFIX = "grd_"  # noqa: S105 - a marker that makes a leaked token recognisable, not a secret
MAX_NAME_LENGTH = 100
T = TypeVar("T")
Sessionmaker = async_sessionmaker[AsyncSession]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def find_active_token(session: AsyncSession, raw: str) -> ApiToken | None:
    """The unrevoked token whose hash matches `raw`, or None."""
    return await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))
    )


async def create_token(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> str:
    """Store a new token under a name no other token has; return the raw token (its only copy)."""
    raw = new_token()
    async with sessionmaker() as session, session.begin():
        session.add(ApiToken(name=name, token_hash=hash_token(raw), created_at=utcnow()))
    return raw


async def revoke_token(sessionmaker: async_sessionmaker[AsyncSession], name: str) -> bool:
    """Revoke the named token; False when there is no such unrevoked token."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return result.rowcount == 1


def _validated_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise CommandError(f"the token name must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def _run_with_database(settings: Settings, work: Callable[[Sessionmaker], Awaitable[T]]) -> T:
    """Bring the schema up to date, then run `work(sessionmaker)` on a fresh engine."""
    from grader.db.schema import upgrade_to_head

    upgrade_to_head(settings.database.url)

    async def main() -> T:
        engine = make_engine(settings.database)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def create_token_command(args: argparse.Namespace, settings: Settings) -> int:
    name = _validated_name(args.name)
    try:
        raw = _run_with_database(settings, lambda sessionmaker: create_token(sessionmaker, name))
    except IntegrityError:
        raise CommandError(f"a token named {name!r} already exists (revoked names stay taken); "
                           "pick another name") from None
    print(raw)
    return 0


def revoke_token_command(args: argparse.Namespace, settings: Settings) -> int:
    name = _validated_name(args.name)
    if not _run_with_database(settings, lambda sessionmaker: revoke_token(sessionmaker, name)):
        raise CommandError(f"no active token is named {name!r}")
    print(f"token {name!r} revoked")
    return 0
