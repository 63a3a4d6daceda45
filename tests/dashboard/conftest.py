"""A real `grader serve` on the suite's database and Debian's Chromium driven by Playwright.

Screenshots go to artifacts/dashboard/ (kept by CI as test artefacts, ignored by git).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.browser import browser, page, screenshot, screenshots  # noqa: F401 - fixtures and helpers


@pytest.fixture
def base_url(serve: Callable[..., Any], database_url: str, engine: AsyncEngine) -> str:
    """A real service on the suite's (freshly emptied) database; no workers, so jobs stay as seeded."""
    return serve(database_url, GRADER_WORKERS="0").base_url
