"""The bearer-token guard of every `/api` route: a missing, unknown or revoked token is a 401."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler

from grader.api.tokens import find_active_token

UNAUTHORIZED_MESSAGE = ("A valid API token is required: send 'Authorization: Bearer <token>' "
                        "with a token from grader token create.")


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None for any other header."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def token_id_for(connection: ASGIConnection[Any, Any, Any, Any], raw: str) -> int | None:
    """The id of the active token `raw`, looked up in a short session of its own (guards get no DI)."""
    async with connection.app.state.sessionmaker() as session:
        token = await find_active_token(session, raw)
        return token.id if token else None


async def require_api_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    raw = bearer_token(connection.headers.get("authorization", ""))
    if raw is None or await token_id_for(connection, raw) is None:
        raise NotAuthorizedException(UNAUTHORIZED_MESSAGE, headers={"WWW-Authenticate": "Bearer"})
