"""The dashboard's write forms (regrade, override): a CSRF token bound to the session, the write scope,
and the comment rendered as safe HTML; labels in the course's language."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.app import create_app
from grader.dashboard.labels import RUSSIAN
from grader.dashboard.markdown import comment_html
from grader.dashboard.session import COOKIE_NAME
from grader.db.models import Job, Override, TokenScope
from tests.api import factories
from tests.conftest import course_rubrics, make_settings, sample_course
from tests.dashboard import forms

Sessionmaker = async_sessionmaker[AsyncSession]


@pytest.fixture
async def dashboard(database_url: str, sessionmaker: Sessionmaker) -> AsyncIterator[AsyncTestClient]:
    app = create_app(make_settings(database_url, course=sample_course()), course_rubrics(), workers=False)
    async with AsyncTestClient(app) as client:
        yield client


async def log_in(client: AsyncTestClient, sessionmaker: Sessionmaker, scope: TokenScope = TokenScope.WRITE) -> str:
    raw = await factories.token(sessionmaker, f"user-{scope}", scope)
    response = await forms.log_in(client, raw)
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    return client.cookies[COOKIE_NAME]


async def count(sessionmaker: Sessionmaker, model: type) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_override_form__needs_the_sessions_csrf_token(dashboard: AsyncTestClient,
                                                            sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "alice", assignment="hw1")
    await log_in(dashboard, sessionmaker)
    page = await dashboard.get(f"/dashboard/submissions/{sub.id}")
    token = forms.form_token(page.text)
    form = {"score": "77", "note": "checked by hand"}
    forged = await dashboard.post(f"/dashboard/submissions/{sub.id}/override", data={**form, "csrf_token": "0" * 64},
                                  follow_redirects=False)
    missing = await dashboard.post(f"/dashboard/submissions/{sub.id}/override", data=form, follow_redirects=False)
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert await count(sessionmaker, Override) == 0
    saved = await dashboard.post(f"/dashboard/submissions/{sub.id}/override", data={**form, "csrf_token": token},
                                 follow_redirects=False)
    assert (saved.status_code, saved.headers["location"]) == (303, f"/dashboard/submissions/{sub.id}?notice=override")
    page = await dashboard.get(saved.headers["location"])
    assert "checked by hand" in page.text
    assert await count(sessionmaker, Override) == 1


async def test_write_forms__hidden_and_refused_for_a_read_token(dashboard: AsyncTestClient,
                                                                sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "alice", assignment="hw1")
    await log_in(dashboard, sessionmaker, TokenScope.READ)
    page = await dashboard.get(f"/dashboard/submissions/{sub.id}")
    assert 'id="override-form"' not in page.text
    assert "write scope" in page.text
    jobs_before = await count(sessionmaker, Job)
    for path in (f"/dashboard/submissions/{sub.id}/regrade", "/dashboard/assignments/hw1/regrade"):
        refused = await dashboard.post(path, data={"csrf_token": forms.form_token(page.text)}, follow_redirects=False)
        assert refused.status_code == 403
    assert await count(sessionmaker, Job) == jobs_before


async def test_regrade_form__queues_the_assignment_behind_new_pushes(dashboard: AsyncTestClient,
                                                                     sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", assignment="hw1")
        await factories.submission(session, "bob", number=2, assignment="hw1")
    await log_in(dashboard, sessionmaker)
    book = await dashboard.get("/dashboard/?assignment=hw1")
    response = await dashboard.post("/dashboard/assignments/hw1/regrade",
                                    data={"csrf_token": forms.form_token(book.text)}, follow_redirects=False)
    assert response.headers["location"] == "/dashboard?assignment=hw1&notice=regrade&queued=2&already=0"
    page = await dashboard.get(response.headers["location"])
    assert "Regrade queued: 2 new jobs, 0 already queued." in page.text


async def test_export__csv_with_the_dashboard_session(dashboard: AsyncTestClient, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", assignment="hw2")
    await log_in(dashboard, sessionmaker, TokenScope.READ)
    exported = await dashboard.get("/dashboard/export?assignment=hw2&format=moodle")
    assert exported.status_code == 200
    assert exported.text.splitlines()[0] == "ID number,Email address,Full name,Queries,Feedback"
    assert (await dashboard.get("/api/gradebook")).status_code == 401  # the API still needs its bearer token


async def test_labels__the_course_language_names_the_page(database_url: str, sessionmaker: Sessionmaker) -> None:
    russian = dataclasses.replace(sample_course(), language="ru")
    app = create_app(make_settings(database_url, course=russian), course_rubrics(), workers=False)
    async with AsyncTestClient(app) as client:
        await log_in(client, sessionmaker)
        page = await client.get("/dashboard")
    assert '<html lang="ru">' in page.text
    assert f"<h2>{RUSSIAN.students}</h2>" in page.text
    assert RUSSIAN.regrade_assignment in page.text
    assert "Students" not in page.text


def test_comment_html__github_markdown_with_details_and_no_script() -> None:
    html = comment_html("## Grade A\n\n| Check | Points |\n|---|---:|\n| lint | 5 |\n\n"
                        "<details><summary>Lint</summary>\n\n- x <script>alert(1)</script> "
                        "[y](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n</details>")
    assert "<h2>Grade A</h2>" in html
    assert "<th>Points</th>" in html  # alignment dropped: the CSP allows no inline style
    assert "style=" not in html
    assert "<details><summary>Lint</summary>" in html
    for dangerous in ("<script", 'href="javascript:', "onerror", "<img"):
        assert dangerous not in html
