"""The dashboard in a real headless Chromium: log in with a token, read and sort the gradebook, open what
a student saw, log out."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.tokens import revoke_token
from grader.db.models import JobStatus
from tests.api import factories
from tests.support.browser import screenshots

Sessionmaker = async_sessionmaker[AsyncSession]
T0 = factories.START


async def _seed(sessionmaker: Sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", received_at=T0, failing=("tests", "quiz"))
        alice = await factories.submission(session, "alice", received_at=T0 + timedelta(hours=1),
                                           failing=("tests",))
        bob = await factories.submission(session, "bob", number=2, received_at=T0 + timedelta(hours=2))
        await factories.submission(session, "carol", number=3, received_at=T0 + timedelta(hours=3),
                                   failing=("tests", "migrations"))
        dave = await factories.submission(session, "dave", number=4, received_at=T0 + timedelta(hours=4),
                                          failing=None, job_status=JobStatus.QUEUED)
        await factories.result(session, dave, advisory=True)
        return {"alice": alice.id, "bob": bob.id, "dave": dave.id}


async def _log_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/dashboard")
    await expect(page).to_have_url(f"{base_url}/dashboard/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")


async def _students_in_order(page: Page) -> list[str]:
    return await page.locator("#gradebook tbody tr").evaluate_all("rows => rows.map(r => r.dataset.student)")


async def test_dashboard__login_gradebook_chart_and_sorting(page: Page, base_url: str,
                                                            sessionmaker: Sessionmaker) -> None:
    await _seed(sessionmaker)
    token = await factories.token(sessionmaker)
    await page.goto(f"{base_url}/dashboard/login")
    await page.fill("#token", "grd_wrong")
    await page.click("button[type=submit]")
    await expect(page.locator("[role=alert]")).to_contain_text("not valid")
    await screenshots(page, "login-rejected")

    await _log_in(page, base_url, token)
    await expect(page).to_have_url(f"{base_url}/dashboard")
    assert await _students_in_order(page) == ["alice", "bob", "carol", "dave"]
    bars = page.locator("#grade-distribution .bar")
    counts = await bars.evaluate_all("bars => bars.map(b => [b.dataset.grade, Number(b.dataset.students)])")
    assert counts == [["S", 1], ["A", 0], ["B", 1], ["C", 1]]
    await expect(page.locator("#failed-checks tr").nth(1)).to_contain_text("Your tests pass")
    await expect(page.locator("#failed-checks tr").nth(1)).to_contain_text("2")
    await expect(page.locator("#sections")).to_contain_text("SA2 Testing with pytest-asyncio")
    await screenshots(page, "gradebook")

    await page.click("th a[data-column=latest_score]")
    assert await _students_in_order(page) == ["carol", "alice", "bob", "dave"]
    await page.click("th a[data-column=latest_score]")
    assert await _students_in_order(page) == ["bob", "alice", "carol", "dave"]
    await screenshots(page, "gradebook-sorted-by-score")


async def test_dashboard__submission_page_shows_what_the_student_saw(page: Page, base_url: str,
                                                                     sessionmaker: Sessionmaker) -> None:
    ids = await _seed(sessionmaker)
    await _log_in(page, base_url, await factories.token(sessionmaker))
    await page.click("a[href='/dashboard/students/alice']")
    await expect(page.locator("h1")).to_have_text("alice")
    await page.locator("#submissions a").first.click()
    await expect(page).to_have_url(f"{base_url}/dashboard/submissions/{ids['alice']}")
    failed = page.locator("#checks tr[data-passed=false]")
    await expect(failed).to_have_count(1)
    await expect(failed).to_contain_text("Your tests pass")
    link = failed.locator("a")
    await expect(link).to_have_attribute("href", f"{factories.LESSON_URL}#sa2")
    await expect(page.locator("#advisory-flag")).to_have_count(0)
    await expect(page.locator("#next-grade")).to_contain_text("fix Your tests pass")
    comment = page.locator("#comment-html")
    await expect(comment).to_contain_text("Your tests pass")
    await expect(comment.locator("table th").first).to_be_visible()  # rendered as on GitHub, not raw Markdown
    await expect(comment).not_to_contain_text("|---|")
    await screenshots(page, "submission")

    await page.goto(f"{base_url}/dashboard/submissions/{ids['dave']}")
    await expect(page.locator("#advisory-flag")).to_contain_text("not the service's grade")
    await screenshots(page, "submission-advisory")
    response = await page.goto(f"{base_url}/dashboard/submissions/987654")
    assert response is not None
    assert response.status == 404


async def test_dashboard__logout_and_revocation_end_the_session(page: Page, base_url: str,
                                                                sessionmaker: Sessionmaker) -> None:
    await _seed(sessionmaker)
    await _log_in(page, base_url, await factories.token(sessionmaker, "ta"))
    await expect(page).to_have_url(f"{base_url}/dashboard")
    await page.click("header button")
    await expect(page).to_have_url(f"{base_url}/dashboard/login")
    await page.goto(f"{base_url}/dashboard")
    await expect(page).to_have_url(f"{base_url}/dashboard/login")

    await _log_in(page, base_url, await factories.token(sessionmaker, "ta-2"))
    await expect(page).to_have_url(f"{base_url}/dashboard")
    assert await revoke_token(sessionmaker, "ta-2")
    await page.goto(f"{base_url}/dashboard")
    await expect(page).to_have_url(f"{base_url}/dashboard/login")
