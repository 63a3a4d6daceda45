"""Debian's Chromium driven by Playwright, and screenshots kept as CI artefacts (artifacts/dashboard/,
ignored by git) at a desktop and a phone width. The fixtures are a pytest plugin of the root conftest."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("GRADER_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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
    context = await browser.new_context(viewport=DESKTOP)
    console: list[str] = []
    try:
        tab = await context.new_page()
        tab.on("console", lambda message: console.append(message.text))
        yield tab
    finally:
        await context.close()
    assert [line for line in console if "Content Security Policy" in line] == []


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def screenshots(page: Page, name: str) -> None:
    """The page at the desktop width, then at the phone width (`NAME.desktop.png`, `NAME.phone.png`)."""
    viewport = page.viewport_size
    await page.set_viewport_size(DESKTOP)
    await screenshot(page, f"{name}.desktop")
    await page.set_viewport_size(PHONE)
    await screenshot(page, f"{name}.phone")
    if viewport is not None:
        await page.set_viewport_size(viewport)


async def page_is_wider_than_the_screen(page: Page) -> bool:
    """Whether the document itself scrolls sideways (tables must scroll inside their own box instead)."""
    return await page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
