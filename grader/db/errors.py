"""Which database errors mean "the database is unavailable", and nothing else.

Only these become a 503 and an outage in the logs: a lost or refused connection, a login or database
name the server refuses, a server shutting down or out of resources, a pool with no free connection, a
SQLite file that cannot be opened, read or written (or is locked past the busy timeout), and a SQLite
file that is no longer the one configured.
An integrity or data error is about the data, never about availability: it must not look like an outage.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# PostgreSQL SQLSTATE classes and codes: connection exception, invalid authorization, invalid catalog
# name (no such database), insufficient resources (disk full, out of memory, too many connections),
# system error (I/O); admin and crash shutdown, cannot connect now.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "3D", "53", "58")
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}
# SQLite primary result codes: BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
_UNAVAILABLE_SQLITE_CODES = {5, 6, 8, 10, 11, 13, 14, 26}


class DatabaseReplacedError(ConnectionError):
    """The SQLite file at the configured path is gone or is another file than the one opened."""


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be used right now (as opposed to a bad statement or value)."""
    if isinstance(exc, OSError | PoolTimeoutError):  # OSError: asyncpg raises it before SQLAlchemy wraps
        return True
    if isinstance(exc, IntegrityError) or not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES) or sqlstate in _UNAVAILABLE_SQLSTATES
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _UNAVAILABLE_SQLITE_CODES


def first_line(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's statement dump (which could hold values)."""
    origin = getattr(exc, "orig", None) or exc
    return (str(origin).strip().splitlines() or [type(origin).__name__])[0][:300]


def unusable_reason(exc: BaseException) -> str | None:
    """The one line a command prints when the database cannot be used at all (None: another error)."""
    if isinstance(exc, DBAPIError):
        return f"the database cannot be used: {first_line(exc)}"
    if isinstance(exc, ConnectionError):
        return f"cannot connect: {first_line(exc)}"
    return None
