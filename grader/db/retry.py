"""Retry a whole unit of work on transient database errors only.

Transient: a lost connection, a serialization failure, a deadlock, SQLite busy/locked. Integrity and
data errors are the caller's bug or the client's bad input and are never retried. Attempts are
bounded; waits grow exponentially with full jitter so that colliding writers spread out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

T = TypeVar("T")
log = logging.getLogger("grader.db")

# PostgreSQL SQLSTATEs worth another try: serialization_failure, deadlock_detected, and the
# connection-exception class (08xxx), admin/crash shutdown, cannot_connect_now.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "57P01", "57P02", "57P03"}
_SQLITE_BUSY_WORDS = ("database is locked", "database is busy", "database table is locked")


def is_transient(exc: BaseException) -> bool:
    """True when retrying the same unit of work may succeed."""
    if isinstance(exc, IntegrityError) or not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate and (sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")):
        return True
    message = str(exc.orig).lower()
    return any(word in message for word in _SQLITE_BUSY_WORDS)


async def run_with_retry(
    unit_of_work: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    max_wait_seconds: float = 2.0,
) -> T:
    """Run `unit_of_work` again from the start after a transient error, up to `attempts` times.

    `unit_of_work` must open its own session and transaction, so that a retry starts clean.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=0.05, max=max_wait_seconds),
        reraise=True,
        before_sleep=lambda state: log.warning(
            "transient database error, retrying", extra={"attempt": state.attempt_number}
        ),
    )
    async for attempt in retrying:
        with attempt:
            return await unit_of_work()
    raise AssertionError("unreachable: tenacity re-raises the last error")
