"""The SQL statements a block of code sends, whichever engine sends them (the intake's writer runs on a
synchronous twin of the test's engine on SQLite)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event


def _verb(statement: str) -> str:
    """`INSERT INTO deliveries`, `UPDATE jobs`, `SELECT`: what a statement does, for readable asserts."""
    words = statement.split()
    if words[0] == "INSERT":
        return f"INSERT INTO {words[2]}"
    if words[0] == "UPDATE":
        return f"UPDATE {words[1]}"
    return words[0]


@contextlib.contextmanager
def recorded_statements(source: Any = Engine) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, BEGIN (as the driver is told) included:
    by every engine, or by the one `source` names."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(source, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(source, "before_cursor_execute", record)


def verbs(statements: list[str]) -> list[str]:
    return [_verb(statement) for statement in statements]
