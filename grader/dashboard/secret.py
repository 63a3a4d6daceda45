"""The dashboard's session secret: `GRADER_SESSION_SECRET`, or one generated on first start and kept in a
file (mode 0600) so sessions survive a restart.

It is kept out of the database on purpose: whoever can read the tables (a backup, a read-only role)
must not be able to sign a session. The file is created atomically (written under a temporary name,
then hard-linked into place), so two services starting at once end up with the same secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from grader.errors import CommandError
from grader.settings import MIN_SESSION_SECRET_LENGTH


def load_or_create_secret(path: Path) -> str:
    """The secret stored at `path`, created there first if there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        _create(path)
        return _read(path)
    except OSError as exc:
        raise CommandError(f"GRADER_SESSION_SECRET is not set and {path} cannot be written ({exc.strerror}); "
                           "set GRADER_SESSION_SECRET or GRADER_SESSION_SECRET_FILE") from None


def _read(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret) < MIN_SESSION_SECRET_LENGTH:
        raise CommandError(f"{path} holds no usable session secret (under {MIN_SESSION_SECRET_LENGTH} "
                           "characters); delete it to have a new one generated")
    return secret


def _create(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: its secret wins
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
