"""Rows written through `insert_rows` on SQLite: SQLAlchemy's own statement and conversions, SQL built once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.exc import StatementError

from grader.db import prebuilt
from grader.db.dialect import insert_for
from grader.db.models import Base, JobKind, JobStatus
from grader.db.prebuilt import PrebuiltInsert, insert_rows
from tests.support.statements import recorded_statements

DELIVERIES, JOBS = Base.metadata.tables["deliveries"], Base.metadata.tables["jobs"]
NOW = datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path}/p.db")
    Base.metadata.create_all(engine)
    return engine


def _deliveries(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"delivery_id": f"d{index}", "event": "pull_request", "action": "opened", "received_at": NOW}
            for index in range(start, start + count)]


def _new_deliveries() -> Any:
    return (insert_for("sqlite", DELIVERIES).on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(DELIVERIES.c.delivery_id, DELIVERIES.c.received_at))


def _sent_by_core(engine: Engine, statement: Any, rows: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    with engine.connect() as connection, connection.begin() as transaction, recorded_statements(engine) as sent:
        returned = sorted(tuple(row) for row in connection.execute(statement, rows))
        transaction.rollback()
    return sent, returned


def test_insert_rows__sends_the_statement_sqlalchemy_sends_and_returns_the_same_rows(sqlite_file):
    statement, rows = _new_deliveries(), _deliveries(3)
    core_statements, core_rows = _sent_by_core(sqlite_file, statement, rows)
    with sqlite_file.begin() as connection, recorded_statements(sqlite_file) as sent:
        returned = insert_rows(connection, statement, rows)
    assert sent == core_statements  # one multi-row statement, the same text
    assert sorted(tuple(row) for row in returned) == core_rows  # datetimes back as aware UTC, as Core reads them
    assert {row.received_at for row in returned} == {NOW}
    with sqlite_file.connect() as connection:
        assert connection.execute(select(DELIVERIES.c.received_at)).scalars().all() == [NOW] * 3


def test_insert_rows__a_conflicting_row_is_skipped_as_the_statement_says(sqlite_file):
    statement = _new_deliveries()
    with sqlite_file.begin() as connection:
        insert_rows(connection, statement, _deliveries(2))
        returned = insert_rows(connection, statement, _deliveries(3))
    assert [row.delivery_id for row in returned] == ["d2"]


def test_insert_rows__a_value_the_column_refuses_is_refused(sqlite_file):
    job = {"submission_id": 1, "kind": JobKind.GRADE.value, "status": "sleeping", "attempt": 0, "priority": 0,
           "run_after": NOW, "created_at": NOW, "updated_at": NOW}
    statement = insert_for("sqlite", JOBS).returning(JOBS.c.id)
    with pytest.raises(StatementError), sqlite_file.begin() as connection:
        connection.execute(statement, [job])  # as SQLAlchemy refuses it …
    with pytest.raises(LookupError), sqlite_file.begin() as connection:
        insert_rows(connection, statement, [job | {"status": "sleeping"}])  # … so does the prebuilt statement
    with sqlite_file.begin() as connection:
        [row] = insert_rows(connection, statement, [job | {"status": JobStatus.QUEUED.value}])
    assert row.id == 1


def test_insert_rows__rows_past_sqlites_parameter_limit_go_in_several_statements(sqlite_file, monkeypatch):
    monkeypatch.setattr(prebuilt, "MAX_PARAMETERS", 8)  # two rows of four columns a statement
    statement = _new_deliveries()  # a new statement: built under this limit
    with sqlite_file.begin() as connection, recorded_statements(sqlite_file) as sent:
        returned = insert_rows(connection, statement, _deliveries(5))
    assert len(sent) == 3
    assert sorted(row.delivery_id for row in returned) == [f"d{index}" for index in range(5)]


def test_prebuilt_insert__a_statement_with_parameters_outside_its_values_is_refused(sqlite_file):
    statement = (insert_for("sqlite", DELIVERIES).on_conflict_do_update(
        index_elements=["delivery_id"], set_={"action": "edited"}).returning(DELIVERIES.c.delivery_id))
    with pytest.raises(ValueError, match="not exactly the columns"):
        PrebuiltInsert(statement, sqlite_file.dialect, ("delivery_id", "event", "action", "received_at"))
