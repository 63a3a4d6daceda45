"""Stored standings (`grader.db.models.Standing`): the gradebook of an assignment reads one row per
student, however many pushes, regrades and overrides there were.

The database keeps each row's inputs (migration 0006's triggers), whichever process writes: a push
adds to `attempts`; a changed grade, an override or an extension bumps `version`. A row is fresh when
its standing was computed at its current version under the course settings the reader has (`basis_of`:
deadline, late penalty, policy, grade bands); a course file edited since makes every row stale.

`refresh_stale` computes stale rows with the same `standing_of` as the live gradebook and stores each
only if its version did not move meanwhile (a grade stored during the computation keeps the row stale
for the next pass). `grader serve` runs it every few seconds (`keep_standings`); the gradebook computes
whatever is still stale live, so a row is never wrong, only slower to read for the seconds after a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from grader.api.standing_inputs import (
    GradebookScope,
    Logins,
    extensions_of,
    outcome_columns,
    standing_of,
    students_of,
)
from grader.db.engine import write_turn
from grader.db.models import Standing

# Raised whenever the computation of a standing changes in code (`grader.course.standing`, the late
# penalty, `outcome_columns`), so rows computed by an older release are stale after an upgrade.
STANDING_RULES_VERSION = 1
NOTHING_TO_COMPUTE = "*"  # a row made by a push: no grade, no override yet, fresh under any basis
REFRESH_BATCH = 500
BATCHES_PER_PASS = 40  # 20,000 rows a pass; a course file edited for a larger class takes two passes
log = logging.getLogger("grader.standings")


def basis_of(scope: GradebookScope) -> str:
    """A digest of everything a standing depends on besides the student's pushes and overrides."""
    assignment = scope.assignment
    facts = {
        "rules": STANDING_RULES_VERSION,
        "assignment": None if assignment is None else [
            assignment.id, assignment.deadline.isoformat() if assignment.deadline else None,
            assignment.late_penalty_percent_per_day, assignment.max_late_days],
        "policy": scope.policy,
        "bands": [[band.name, band.min, list(band.requires)] for band in scope.rubric.grades],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def fresh(basis: str) -> ColumnElement[bool]:
    """Whether a row's stored standing holds under `basis` (NULL, i.e. not, when never computed)."""
    return (Standing.version == Standing.fresh_version) & Standing.basis.in_([NOTHING_TO_COMPUTE, basis])


def _is_stale(assignment_key: str, basis: str) -> ColumnElement[bool]:
    """Not fresh (a row never computed has no basis, which `fresh` leaves NULL)."""
    return (Standing.assignment_key == assignment_key) & or_(Standing.basis.is_(None), ~fresh(basis))


def logins_of(rows: Sequence[Any]) -> Logins:
    return Logins(exact=[row.login for row in rows if row.login],
                  keys=[row.login_key for row in rows if not row.login])


async def compute_stale(connection: AsyncConnection, scope: GradebookScope,
                        limit: int = REFRESH_BATCH) -> list[dict[str, Any]]:
    """Up to `limit` stale rows of the assignment, computed afresh: the values `store_fresh` writes."""
    if scope.assignment is None or scope.repository is not None:
        raise ValueError("standings are stored per assignment, for every repository")
    basis = basis_of(scope)
    stale = (await connection.execute(select(Standing.id, Standing.login_key, Standing.login, Standing.version)
                                      .where(_is_stale(scope.assignment.id, basis)).limit(limit))).all()
    if not stale:
        return []
    extensions = await extensions_of(connection, scope)
    students = await students_of(connection, scope, extensions, logins_of(stale))
    values = []
    for row in stale:
        state = standing_of(row.login_key, students.get(row.login_key), scope, extensions)
        values.append({
            "row_id": row.id, "read_version": row.version, "fresh_version": row.version, "basis": basis,
            "status": None if state.final is None else state.status, **outcome_columns(state)})
    return values


async def store_fresh(connection: AsyncConnection, values: list[dict[str, Any]]) -> None:
    """Write computed standings, each only if its row's version is still the one computed at."""
    if not values:
        return
    written = [column for column in values[0] if column not in ("row_id", "read_version")]
    statement = (update(Standing)
                 .where(Standing.id == bindparam("row_id"), Standing.version == bindparam("read_version"))
                 .values({column: bindparam(column) for column in written}))
    await connection.execute(statement, values)


async def refresh_stale(sessionmaker: async_sessionmaker[AsyncSession],
                        read_sessionmaker: async_sessionmaker[AsyncSession], scope: GradebookScope) -> int:
    """Compute a batch of stale standings (reading only) and store them (a short write); how many."""
    async with read_sessionmaker() as session, session.begin():
        values = await compute_stale(await session.connection(), scope)
    if values:
        async with write_turn(sessionmaker.kw["bind"]), sessionmaker() as session, session.begin():
            await store_fresh(await session.connection(), values)
    return len(values)


async def keep_standings(sessionmaker: async_sessionmaker[AsyncSession],
                         read_sessionmaker: async_sessionmaker[AsyncSession], scopes: Sequence[GradebookScope],
                         stop: asyncio.Event, every_seconds: float) -> None:
    """Until `stop`: refresh every assignment's stale standings, then wait `every_seconds`."""
    while not stop.is_set():
        for scope in scopes:
            try:
                for _ in range(BATCHES_PER_PASS):
                    if stop.is_set() or await refresh_stale(sessionmaker, read_sessionmaker, scope) < REFRESH_BATCH:
                        break
            except (SQLAlchemyError, OSError) as exc:  # the gradebook computes stale rows live meanwhile
                log.warning("refreshing standings failed", extra={"error_type": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
