"""End-to-end fixtures: the browser of the dashboard tests."""

from tests.support.browser import browser, page  # noqa: F401 - fixtures
