"""The bearer-token guards of `/api`: a missing, unknown or revoked token is a 401; a change (override,
regrade, extension) with a token of the read scope is a 403.

The token found is kept on the connection's state (`api_token`), so a handler knows who acted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from grader.api.tokens import find_active_token
from grader.db.models import TokenScope

UNAUTHORIZED_MESSAGE = ("A valid API token is required: send 'Authorization: Bearer <token>' "
                        "with a token from grader token create.")
READ_ONLY_MESSAGE = ("This token has the read scope; changes need a token made with "
                     "grader token create NAME --scope write.")


@dataclass(frozen=True)
class TokenIdentity:
    id: int
    name: str
    scope: TokenScope

    @property
    def can_write(self) -> bool:
        return self.scope is TokenScope.WRITE


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None for any other header."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def token_identity(connection: ASGIConnection[Any, Any, Any, Any], raw: str) -> TokenIdentity | None:
    """The active token `raw`, looked up in a short session of its own (guards get no DI)."""
    async with connection.app.state.read_sessionmaker() as session:
        token = await find_active_token(session, raw)
        return TokenIdentity(token.id, token.name, TokenScope(token.scope)) if token else None


async def require_api_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    raw = bearer_token(connection.headers.get("authorization", ""))
    identity = await token_identity(connection, raw) if raw is not None else None
    if identity is None:
        raise NotAuthorizedException(UNAUTHORIZED_MESSAGE, headers={"WWW-Authenticate": "Bearer"})
    connection.state.api_token = identity


async def require_write_scope(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """After `require_api_token` (controller guards run before a handler's own)."""
    identity = connection.state.get("api_token")
    if not isinstance(identity, TokenIdentity) or not identity.can_write:
        raise PermissionDeniedException(READ_ONLY_MESSAGE)
