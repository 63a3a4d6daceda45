"""A real `grader serve` on the suite's database and Debian's Chromium driven by Playwright.

Screenshots go to artifacts/dashboard/ (kept by CI as test artefacts, ignored by git).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("GRADER_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A browser tab; the test fails if the page broke the Content-Security-Policy anywhere."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    try:
        tab = await context.new_page()
        tab.on("console", lambda message: console.append(message.text))
        yield tab
    finally:
        await context.close()
    assert [line for line in console if "Content Security Policy" in line] == []


@pytest.fixture
def base_url(serve: Callable[..., Any], database_url: str, engine: AsyncEngine) -> str:
    """A real service on the suite's (freshly emptied) database; no workers, so jobs stay as seeded."""
    return serve(database_url, GRADER_WORKERS="0").base_url


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
