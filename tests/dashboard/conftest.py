"""A real `grader serve` on the suite's database for the dashboard's browser tests (the browser and its
screenshots: `tests.support.browser`, a plugin of the root conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture
def base_url(serve: Callable[..., Any], database_url: str, engine: AsyncEngine) -> str:
    """A real service on the suite's (freshly emptied) database; no workers, so jobs stay as seeded."""
    return serve(database_url, GRADER_WORKERS="0").base_url
