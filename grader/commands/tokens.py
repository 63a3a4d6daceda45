"""`grader token create NAME [--scope read|write]` and `grader token revoke NAME`: instructor API tokens."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import IntegrityError

from grader.api.tokens import MAX_NAME_LENGTH, create_token, revoke_token
from grader.commands.database import run_with_database
from grader.db.models import TokenScope
from grader.errors import CommandError
from grader.settings import Settings


def _validated_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise CommandError(f"the token name must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def create_token_command(args: argparse.Namespace, settings: Settings) -> int:
    name = _validated_name(args.name)
    scope = TokenScope(args.scope)
    try:
        raw = run_with_database(settings, lambda sessionmaker: create_token(sessionmaker, name, scope))
    except IntegrityError:
        raise CommandError(f"a token named {name!r} already exists (revoked names stay taken); "
                           "pick another name") from None
    print(raw)
    return 0


def revoke_token_command(args: argparse.Namespace, settings: Settings) -> int:
    name = _validated_name(args.name)
    if not run_with_database(settings, lambda sessionmaker: revoke_token(sessionmaker, name)):
        raise CommandError(f"no active token is named {name!r}")
    print(f"token {name!r} revoked")
    return 0
