"""Posting the dashboard's forms as a browser does: read the page first, send its form token back."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

_FORM_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def form_token(html: str) -> str:
    match = _FORM_TOKEN.search(html)
    assert match is not None, "the page has no form token"
    return match.group(1)


async def log_in(client: AsyncTestClient, token: str, **headers: str) -> Any:
    """Open the login page, then post the token with the page's form token (no redirect followed)."""
    login_page = await client.get("/dashboard/login")
    return await client.post("/dashboard/login", data={"token": token, "csrf_token": form_token(login_page.text)},
                             headers=headers, follow_redirects=False)


async def log_out(client: AsyncTestClient, **headers: str) -> Any:
    """Post the logout form of the gradebook page (no redirect followed)."""
    book = await client.get("/dashboard/")
    return await client.post("/dashboard/logout", data={"csrf_token": form_token(book.text)}, headers=headers,
                             follow_redirects=False)
