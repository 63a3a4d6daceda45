"""Bring the schema up to date in a child process, so the long-lived service never loads Alembic.

Alembic, Mako and the migration scripts are needed for a second at start and would otherwise stay in
the memory of `grader serve` for its whole life (`bench/serve_rss.py` measures it). The child gets
the database URL on its stdin, never on its command line, where `ps` would show the password.
"""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy.exc import DBAPIError

from grader.db.errors import unusable_reason


class MigrationFailed(RuntimeError):
    """The child could not bring the schema up to date; the message is its one-line reason."""


def upgrade_in_child(database_url: str) -> None:
    """Apply every migration in a fresh interpreter; raise MigrationFailed with its reason."""
    done = subprocess.run([sys.executable, "-m", "grader.db.migrate_process"], input=database_url, text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise MigrationFailed(lines[-1] if lines else f"the migration process ended with status {done.returncode}")


def _child() -> int:
    from grader.db.schema import upgrade_to_head

    try:
        upgrade_to_head(sys.stdin.read().strip())
    except (DBAPIError, ConnectionError) as exc:
        print(unusable_reason(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child())
