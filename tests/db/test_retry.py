import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from grader.db.retry import is_transient, run_with_retry


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg error {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(orig: Exception, cls: type[DBAPIError] = OperationalError) -> DBAPIError:
    return cls("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_wrapped(sqlite3.OperationalError("database is locked")), True),
        (_wrapped(_PgError("40001"), DBAPIError), True),
        (_wrapped(_PgError("40P01"), DBAPIError), True),
        (_wrapped(_PgError("08006"), DBAPIError), True),
        (_wrapped(_PgError("23505"), IntegrityError), False),
        (_wrapped(_PgError("22P02"), DBAPIError), False),
        (_wrapped(sqlite3.OperationalError("no such table: jobs")), False),
        (ValueError("not a database error"), False),
    ],
)
def test_is_transient__only_connection_serialization_deadlock_and_busy(error, transient):
    assert is_transient(error) is transient


async def test_retry__reruns_the_whole_unit_after_a_transient_error():
    calls = []

    async def unit() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _wrapped(sqlite3.OperationalError("database is locked"))
        return "stored"

    assert await run_with_retry(unit, attempts=5, max_wait_seconds=0.01) == "stored"
    assert len(calls) == 3


async def test_retry__gives_up_after_the_attempt_limit():
    calls = []

    async def unit() -> None:
        calls.append(1)
        raise _wrapped(_PgError("40001"), DBAPIError)

    with pytest.raises(DBAPIError):
        await run_with_retry(unit, attempts=3, max_wait_seconds=0.01)
    assert len(calls) == 3


async def test_retry__never_retries_integrity_errors():
    calls = []

    async def unit() -> None:
        calls.append(1)
        raise _wrapped(_PgError("23505"), IntegrityError)

    with pytest.raises(IntegrityError):
        await run_with_retry(unit, attempts=5, max_wait_seconds=0.01)
    assert len(calls) == 1
