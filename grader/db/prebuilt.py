"""Many rows through one Core INSERT … RETURNING, its SQL compiled once, on SQLite.

SQLAlchemy writes a list of rows with a RETURNING statement as one multi-row VALUES statement, but
each time it also renders that statement for the batch and processes every parameter of every row
through its own layers: on the intake's hot path that was about as much CPU as SQLite's own work.
`insert_rows` sends the same statement (the same columns, conflict clause and RETURNING) with SQL
built once per statement, columns and row count, the rows' parameters converted by the column types'
own bind processors and the returned values by their result processors, through
`Connection.exec_driver_sql` (so the connection's transaction and events are the usual ones).

Only for drivers taking `?` parameters (SQLite's); elsewhere, PostgreSQL's included, where each
statement is a round trip anyway, the statement is executed by SQLAlchemy as it is.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Insert
from sqlalchemy.engine import Dialect

# SQLite's limit on the parameters of one statement (999 before 3.32).
MAX_PARAMETERS = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999

Processor = Callable[[Any], Any] | None
_NOTHING = (object(), None)


class PrebuiltInsert:
    """`statement` compiled for `dialect` with `columns` in its VALUES."""

    def __init__(self, statement: Insert, dialect: Dialect, columns: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(columns):  # no parameter elsewhere in the statement
            raise ValueError(f"the parameters of {compiled.string} are not exactly the columns {columns}")
        group = "(" + ", ".join("?" * len(columns)) + ")"
        head, values, tail = compiled.string.partition(f" VALUES {group}")
        if not values or group in tail:
            raise ValueError(f"no single VALUES {group} in {compiled.string}")
        self._head, self._group, self._tail = head + " VALUES ", group, tail
        table = statement.table
        self._columns = tuple((name, _bind_processor(table.c[name].type, dialect)) for name in order)
        returned = statement.returning_column_descriptions
        self._row: Any = namedtuple("Row", [item["name"] for item in returned])  # type: ignore[misc]
        self._results = tuple(_result_processor(item["type"], dialect) for item in returned)
        self.rows_per_statement = max(1, MAX_PARAMETERS // len(columns))
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        """The statement for `rows` rows (built once per size)."""
        sql = self._sql.get(rows)
        if sql is None:
            sql = self._sql[rows] = self._head + ", ".join([self._group] * rows) + self._tail
        return sql

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        """The rows' values in placeholder order, each converted as its column's type binds it (a value
        repeated in every row, such as the batch's time, converted once)."""
        flat: list[Any] = []
        last: dict[str, tuple[Any, Any]] = {}
        for row in rows:
            for name, process in self._columns:
                value = row[name]
                if process is not None:
                    before, after = last.get(name, _NOTHING)
                    if value is not before:
                        after = process(value)
                        last[name] = (value, after)
                    value = after
                flat.append(value)
        return tuple(flat)

    def returned(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        results = self._results
        if not any(results):
            return [self._row._make(row) for row in raw]
        return [self._row._make([value if process is None else process(value)
                                 for value, process in zip(row, results, strict=True)]) for row in raw]


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    return cast(Processor, type_.dialect_impl(dialect).bind_processor(dialect))


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    return cast(Processor, type_.dialect_impl(dialect).result_processor(dialect, None))


_built: dict[tuple[Insert, str, str, tuple[str, ...]], PrebuiltInsert] = {}


def _prebuilt(statement: Insert, dialect: Dialect, columns: tuple[str, ...]) -> PrebuiltInsert:
    """One per statement, dialect and columns (the statements themselves are built once per dialect)."""
    key = (statement, dialect.name, dialect.driver, columns)
    insert = _built.get(key)
    if insert is None:
        insert = _built[key] = PrebuiltInsert(statement, dialect, columns)
    return insert


def prebuilt_applies(dialect: Dialect) -> bool:
    return dialect.paramstyle == "qmark"


def insert_rows(connection: Connection, statement: Insert, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Execute `statement` (an INSERT … RETURNING) for `rows` (dicts with the same keys); its returned
    rows, each with attributes named as the RETURNING columns, in no particular order."""
    if not rows:
        return []
    if not prebuilt_applies(connection.dialect):
        return list(connection.execute(statement, list(rows)))
    insert = _prebuilt(statement, connection.dialect, tuple(rows[0]))
    returned: list[Any] = []
    step = insert.rows_per_statement
    for start in range(0, len(rows), step):
        chunk = rows[start:start + step]
        result = connection.exec_driver_sql(insert.sql(len(chunk)), insert.parameters(chunk))
        returned += insert.returned(result.fetchall())
    return returned
