"""The shapes of GitHub's identifiers, as the service accepts them at its edges.

Whatever a webhook payload or an OIDC token claims is checked against these before it is used or
stored, so a value GitHub would never send is a 400 naming the field, not a database error later.
Sources: GitHub's documented limits (logins of 1-39 letters, digits and hyphens; repository names of
up to 100 ASCII letters, digits, `.`, `-` and `_`; 40-hex commit SHAs; numeric ids). Old accounts can
have a doubled or trailing hyphen, and Enterprise Managed Users an `_shortcode` suffix, so only the
first character of a login is held to the strict rule. Bots are `name[bot]`.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

MAX_INT64 = 2**63 - 1
# Pull request numbers live in a 32-bit column (GitHub's own stay below 2^30).
MAX_PR_NUMBER = 2**31 - 1
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}(\[bot\])?$"
REPOSITORY_NAME_PATTERN = r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$"
FULL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,38}/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$"
SHA_PATTERN = r"^[0-9a-f]{40}$"
NO_NUL_PATTERN = r"^[^\x00]*$"
MAX_TITLE_LENGTH = 1024  # GitHub's form stops at 256; what is stored is cut to 300

GitHubId = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT64, description="A positive 64-bit GitHub id.")]
PullRequestNumber = Annotated[int, msgspec.Meta(ge=1, le=MAX_PR_NUMBER)]
Login = Annotated[str, msgspec.Meta(pattern=LOGIN_PATTERN, max_length=44)]
FullName = Annotated[str, msgspec.Meta(pattern=FULL_NAME_PATTERN, max_length=140)]
Sha = Annotated[str, msgspec.Meta(pattern=SHA_PATTERN)]
Title = Annotated[str, msgspec.Meta(pattern=NO_NUL_PATTERN, max_length=MAX_TITLE_LENGTH)]
Action = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{0,50}$")]

_LOGIN = re.compile(LOGIN_PATTERN)
_FULL_NAME = re.compile(FULL_NAME_PATTERN)
_SHA = re.compile(SHA_PATTERN)


def is_login(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 44 and _LOGIN.fullmatch(value) is not None


def is_full_name(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 140 and _FULL_NAME.fullmatch(value) is not None


def is_sha(value: object) -> bool:
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def github_id(value: object) -> int | None:
    """A positive 64-bit id from an int or a string of at most 19 digits (as OIDC claims carry them)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= MAX_INT64 else None


def pull_request_number(digits: str) -> int | None:
    """The number of `refs/pull/<digits>/…`, or None when GitHub could not have made it."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_PR_NUMBER else None
