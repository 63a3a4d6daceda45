"""Stored standings: the database keeps their inputs, the service computes them, and the gradebook read
from them is always the gradebook computed from every push, whatever happened in between (new pushes,
grades, regrades, overrides, extensions, an edited course file, a grade stored during a refresh)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api import standings
from grader.api.actions import grant_extension, set_override
from grader.api.course_scope import assignment_scopes
from grader.api.dto import Gradebook
from grader.api.gradebook_queries import gradebook
from grader.api.standing_inputs import GradebookScope
from grader.api.standings import compute_stale, refresh_stale, store_fresh
from grader.app import create_app
from grader.db.engine import make_read_sessionmaker
from grader.db.models import Standing, Submission
from grader.settings import QueueSettings
from tests.api import factories
from tests.api.test_api_course import DEADLINE, seed
from tests.conftest import Database, course_rubrics, make_settings, sample_course
from tests.support.polling import eventually
from tests.support.statements import recorded_statements

Sessionmaker = async_sessionmaker[AsyncSession]
HW1 = assignment_scopes(sample_course(), course_rubrics())[0]


async def books(sessionmaker: Sessionmaker, scope: GradebookScope = HW1) -> tuple[Gradebook, Gradebook]:
    """The gradebook as the API reads it (stored standings) and as computed from every push."""
    async with sessionmaker() as session, session.begin():
        return await gradebook(session, scope), await gradebook(session, scope, from_standings=False)


async def refresh(sessionmaker: Sessionmaker, scope: GradebookScope = HW1) -> int:
    return await refresh_stale(sessionmaker, make_read_sessionmaker(sessionmaker.kw["bind"]), scope)


async def stale_count(sessionmaker: Sessionmaker, scope: GradebookScope = HW1) -> int:
    async with sessionmaker() as session, session.begin():
        return len(await compute_stale(await session.connection(), scope))


async def assert_same_both_ways(sessionmaker: Sessionmaker, scope: GradebookScope = HW1) -> Gradebook:
    """Equal before the service stores the changed standings (read live) and after (read stored)."""
    stored, live = await books(sessionmaker, scope)
    assert stored == live
    await refresh(sessionmaker, scope)
    assert await stale_count(sessionmaker, scope) == 0
    stored, live = await books(sessionmaker, scope)
    assert stored == live
    return stored


def _rows(book: Gradebook) -> dict[str, Any]:
    return {row.student: row for row in book.rows}


async def test_standings__stored_equal_computed_through_pushes_grades_overrides_extensions_and_course_edits(
        each_database: Database) -> None:
    sessionmaker = each_database.sessionmaker
    ids = await seed(sessionmaker)
    assert await stale_count(sessionmaker) > 0  # graded pushes make their standings stale
    book = await assert_same_both_ways(sessionmaker)
    assert {row.student: row.status for row in book.rows} == {
        "alice": "graded", "bob": "late", "carol": "pending", "dave": "missing", "erin": "missing",
        "mallory": "graded"}
    hw1 = HW1.assignment
    assert hw1 is not None
    async with sessionmaker() as session, session.begin():
        # carol pushes again after the deadline (not graded yet); bob's push is regraded lower
        await factories.submission(session, "carol", number=3, full_name="course-org/hw1-carol", failing=None,
                                   received_at=DEADLINE + timedelta(hours=1), assignment="hw1")
        await session.execute(update(Submission).where(Submission.id == ids["bob"]).values(score=60.0, grade="C"))
    book = await assert_same_both_ways(sessionmaker)
    assert (_rows(book)["carol"].status, _rows(book)["carol"].attempts) == ("late", 2)
    assert _rows(book)["bob"].score == 48.0  # 60 less 2 days × 10 %
    async with sessionmaker() as session, session.begin():
        await set_override(session, await session.get_one(Submission, ids["alice_1"]), HW1.rubric, 70.0,
                           "plagiarised second push", "teacher")
        await grant_extension(session, hw1, "bob", DEADLINE + timedelta(days=3), "teacher")
        await grant_extension(session, hw1, "carol", DEADLINE + timedelta(days=1), "teacher")
    book = await assert_same_both_ways(sessionmaker)
    rows = _rows(book)
    assert (rows["alice"].score, rows["alice"].overridden) == (70.0, True)
    assert (rows["bob"].score, rows["bob"].late_days, rows["carol"].status) == (60.0, 0, "pending")
    moved = dataclasses.replace(hw1, deadline=DEADLINE - timedelta(days=1))  # the course file edited
    for scope in (dataclasses.replace(HW1, assignment=moved), dataclasses.replace(HW1, policy="last")):
        assert await stale_count(sessionmaker, scope) > 0
        await assert_same_both_ways(sessionmaker, scope)


async def test_standings__a_grade_stored_while_computing_keeps_its_row_stale(each_database: Database) -> None:
    sessionmaker = each_database.sessionmaker
    ids = await seed(sessionmaker)
    async with sessionmaker() as session, session.begin():
        computed = await compute_stale(await session.connection(), HW1)
    async with sessionmaker() as session, session.begin():  # a regrade lands meanwhile
        await session.execute(update(Submission).where(Submission.id == ids["bob"]).values(score=30.0, grade="C"))
    async with sessionmaker() as session, session.begin():
        await store_fresh(await session.connection(), computed)
    assert await stale_count(sessionmaker) == 1  # bob's, written by nobody
    stored, live = await books(sessionmaker)
    assert stored == live
    assert _rows(stored)["bob"].latest_score == 24.0


async def test_standings__one_row_per_student_whatever_the_casing_of_the_login(each_database: Database) -> None:
    sessionmaker = each_database.sessionmaker
    async with sessionmaker() as session, session.begin():
        for login, failing in (("Alice", ("tests",)), ("alice", ())):
            await factories.submission(session, login, number=1, full_name="course-org/hw1-alice",
                                       received_at=DEADLINE - timedelta(hours=1), assignment="hw1",
                                       failing=failing)
        rows = (await session.execute(select(Standing.login_key, Standing.login, Standing.attempts))).all()
    assert [tuple(row) for row in rows] == [("alice", "", 2)]
    book = await assert_same_both_ways(sessionmaker)
    assert [(row.student, row.attempts, row.score) for row in book.rows] == [("alice", 2, 100.0)]


async def test_standings__fresh_standings_spare_the_three_statements_of_the_live_computation(
        database_url: str, sessionmaker: Sessionmaker) -> None:
    await seed(sessionmaker)

    async def count() -> int:
        with recorded_statements(sessionmaker.kw["bind"].sync_engine) as statements:
            await books(sessionmaker)
        return len([item for item in statements if item.lstrip().upper().startswith(("SELECT", "WITH"))])

    stale = await count()
    await refresh(sessionmaker)
    fresh = await count()
    assert stale - fresh == 3


async def test_standings__grader_serve_stores_what_changed_within_its_interval(
        database_url: str, sessionmaker: Sessionmaker) -> None:
    settings = make_settings(database_url, course=sample_course(),
                             queue=QueueSettings(workers=0, standings_seconds=0.05))
    async with AsyncTestClient(create_app(settings, course_rubrics(), workers=False)):
        await seed(sessionmaker)
        await eventually(lambda: _none_stale(sessionmaker), what="every standing stored")
        async with sessionmaker() as session, session.begin():
            await session.execute(update(Submission).where(Submission.author_login == "alice")
                                  .values(score=10.0, grade="C"))
        assert await stale_count(sessionmaker) == 1
        await eventually(lambda: _none_stale(sessionmaker), what="alice's new standing stored")
    stored, live = await books(sessionmaker)
    assert stored == live
    assert _rows(stored)["alice"].score == 10.0


async def _none_stale(sessionmaker: Sessionmaker) -> bool:
    return await stale_count(sessionmaker) == 0 and await stale_count(
        sessionmaker, assignment_scopes(sample_course(), course_rubrics())[1]) == 0


@pytest.mark.parametrize("scope", [dataclasses.replace(HW1, assignment=None),
                                   dataclasses.replace(HW1, repository="course-org/hw1-alice")])
async def test_standings__are_stored_per_assignment_only(scope: GradebookScope, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        with pytest.raises(ValueError, match="per assignment"):
            await compute_stale(await session.connection(), scope)


async def test_standings__the_keeper_goes_on_after_the_database_fails_a_pass(
        sessionmaker: Sessionmaker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass that fails (here: no pooled connection in time) is logged; the next pass stores the rows."""
    await seed(sessionmaker)
    calls: list[int] = []
    real = standings.refresh_stale

    async def failing_once(*args: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise PoolTimeoutError("QueuePool limit reached")
        return await real(*args)

    monkeypatch.setattr(standings, "refresh_stale", failing_once)
    stop = asyncio.Event()
    keeper = asyncio.create_task(standings.keep_standings(
        sessionmaker, make_read_sessionmaker(sessionmaker.kw["bind"]), [HW1], stop, 0.01))
    try:
        await eventually(lambda: _no_stale_in_hw1(sessionmaker), what="the standings stored after a failed pass")
    finally:
        stop.set()
        await keeper
    assert len(calls) >= 2


async def _no_stale_in_hw1(sessionmaker: Sessionmaker) -> bool:
    return await stale_count(sessionmaker) == 0
