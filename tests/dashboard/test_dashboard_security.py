"""Dashboard sessions and forms against a forger: server-signed bounded sessions, CSRF checks, a CSP
and the usual headers on every page, cookies that stay on this site."""

from __future__ import annotations

import hashlib
import hmac
import stat
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.tokens import revoke_token
from grader.app import create_app
from grader.dashboard.secret import load_or_create_secret
from grader.dashboard.session import COOKIE_NAME, session_cookie_value
from grader.db.models import ApiToken
from grader.errors import CommandError
from grader.security_headers import CONTENT_SECURITY_POLICY
from grader.settings import SESSION_SECRET_FILE_NAME, SessionSettings, Settings, SettingsError, load_settings
from tests.api import factories
from tests.conftest import SESSION_SECRET, shipped_rubric
from tests.dashboard.forms import form_token, log_in, log_out

Sessionmaker = async_sessionmaker[AsyncSession]
TEN_YEARS = 10 * 365 * 24 * 3600
EVIL = "https://evil.example"


@pytest.fixture
async def client(settings: Settings, engine) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False)) as client:
        yield client


async def _stored_token(sessionmaker: Sessionmaker) -> ApiToken:
    await factories.token(sessionmaker)
    async with sessionmaker() as session:
        return (await session.scalars(select(ApiToken))).one()


async def _opens_the_gradebook(client: AsyncTestClient, cookie: str) -> bool:
    client.cookies.set(COOKIE_NAME, cookie, domain="testserver.local", path="/dashboard")
    return (await client.get("/dashboard/", follow_redirects=False)).status_code == 200


async def test_session__a_cookie_made_from_the_tokens_table_alone_is_refused(client, sessionmaker) -> None:
    token = await _stored_token(sessionmaker)
    expires = int(time.time()) + TEN_YEARS
    # What the token table gave a forger before: a key derived from the stored hash.
    old_key = hmac.new(bytes.fromhex(token.token_hash), b"grader dashboard session v1", hashlib.sha256).digest()
    old_style = hmac.new(old_key, f"{token.id}.{expires}".encode(), hashlib.sha256).hexdigest()
    assert not await _opens_the_gradebook(client, f"{token.id}.{expires}.{old_style}")
    guessed = SessionSettings(secret=token.token_hash, lifetime_seconds=TEN_YEARS)
    assert not await _opens_the_gradebook(client, session_cookie_value(guessed, token))


async def test_session__a_server_signed_expiry_beyond_one_lifetime_is_refused(client, sessionmaker) -> None:
    token = await _stored_token(sessionmaker)
    ours = SessionSettings(secret=SESSION_SECRET)
    assert await _opens_the_gradebook(client, session_cookie_value(ours, token))
    far = session_cookie_value(ours, token, now=time.time() + TEN_YEARS - ours.lifetime_seconds)
    assert not await _opens_the_gradebook(client, far)


async def test_session__revoking_the_token_ends_its_sessions(client, sessionmaker) -> None:
    raw = await factories.token(sessionmaker, "ta")
    assert (await log_in(client, raw)).status_code == 303
    assert (await client.get("/dashboard/", follow_redirects=False)).status_code == 200
    assert await revoke_token(sessionmaker, "ta")
    assert (await client.get("/dashboard/", follow_redirects=False)).headers["location"] == "/dashboard/login"


@pytest.mark.parametrize("source", [{"origin": EVIL}, {"origin": "null"}, {"referer": f"{EVIL}/page"}],
                         ids=["origin", "null-origin", "referer"])
async def test_forms__a_cross_site_login_is_refused(client, sessionmaker, source: dict[str, str]) -> None:
    raw = await factories.token(sessionmaker)
    response = await log_in(client, raw, **source)
    assert response.status_code == 403
    assert "another site" in response.text
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")


async def test_forms__a_cross_site_logout_is_refused_and_the_session_stays(client, sessionmaker) -> None:
    await log_in(client, await factories.token(sessionmaker))
    assert (await log_out(client, origin=EVIL)).status_code == 403
    assert (await client.get("/dashboard/", follow_redirects=False)).status_code == 200
    assert (await log_out(client, origin="http://testserver.local")).status_code == 303
    assert (await client.get("/dashboard/", follow_redirects=False)).status_code == 303


async def test_forms__a_post_without_this_browsers_form_token_is_refused(settings, client, sessionmaker) -> None:
    raw = await factories.token(sessionmaker)
    missing = await client.post("/dashboard/login", data={"token": raw}, follow_redirects=False)
    async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False)) as other_browser:
        someone_elses = form_token((await other_browser.get("/dashboard/login")).text)
    await client.get("/dashboard/login")
    copied = await client.post("/dashboard/login", data={"token": raw, "csrf_token": someone_elses},
                               follow_redirects=False)
    assert (missing.status_code, copied.status_code) == (403, 403)


async def test_cookies__strict_httponly_and_secure_over_tls(settings, engine, sessionmaker) -> None:
    raw = await factories.token(sessionmaker)
    for base_url, secure in (("https://grader.example", True), ("http://grader.example", False)):
        async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False),
                                   base_url=base_url) as client:
            form_cookie = (await client.get("/dashboard/login")).headers["set-cookie"]
            session_cookie = (await log_in(client, raw)).headers["set-cookie"]
        for cookie in (form_cookie, session_cookie):
            attributes = {part.strip().lower() for part in cookie.split(";")}
            assert {"httponly", "samesite=strict", "path=/dashboard"} <= attributes
            assert ("secure" in attributes) is secure


async def test_pages__every_html_page_has_the_csp_and_security_headers_and_nothing_inline(
        client, sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "alice", failing=("tests",))
    login_page = await client.get("/dashboard/login")
    forbidden = await client.post("/dashboard/login", data={"token": "x"})
    await log_in(client, await factories.token(sessionmaker))
    pages = [login_page, forbidden, *[await client.get(path) for path in (
        "/dashboard/", "/dashboard/students/alice", f"/dashboard/submissions/{sub.id}", "/dashboard/submissions/999")]]
    assert [page.status_code for page in pages] == [200, 403, 200, 200, 200, 404]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        for inline in ("<style", "style=", "<script", " onclick="):
            assert inline not in page.text, (page.url, inline)
    stylesheet = await client.get("/dashboard/static/dashboard.css")
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "#grade-distribution" in stylesheet.text


async def test_forms__a_body_larger_than_any_form_is_refused_unread(client) -> None:
    await client.get("/dashboard/login")
    response = await client.post("/dashboard/login", content=b"token=" + b"x" * 1024 * 1024,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


async def test_schema__is_served_as_json_only(client) -> None:
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get("/schema/swagger")).status_code == 404


def test_session_secret__generated_once_into_a_private_file_then_reused(tmp_path: Path) -> None:
    path = tmp_path / SESSION_SECRET_FILE_NAME
    first = load_or_create_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first


def test_session_secret__services_starting_at_once_end_up_with_the_same_one(tmp_path: Path) -> None:
    path = tmp_path / SESSION_SECRET_FILE_NAME
    secrets: list[str] = []
    threads = [threading.Thread(target=lambda: secrets.append(load_or_create_secret(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(secrets)) == 1
    assert [item.name for item in tmp_path.iterdir()] == [SESSION_SECRET_FILE_NAME]


def test_session_secret__an_unwritable_place_or_a_short_secret_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"GRADER_SESSION_SECRET is not set and .* cannot be written"):
        load_or_create_secret(tmp_path / "no-such-dir" / SESSION_SECRET_FILE_NAME)
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(CommandError, match="no usable session secret"):
        load_or_create_secret(tmp_path / "short")
    with pytest.raises(SettingsError, match="GRADER_SESSION_SECRET must be at least 32 characters"):
        load_settings({"GRADER_SESSION_SECRET": "too-short"})


def test_session_settings__the_secret_file_sits_next_to_the_sqlite_database() -> None:
    assert load_settings({"DATABASE_URL": "sqlite+aiosqlite:////srv/grader/grader.db"}).session.secret_file == Path(
        "/srv/grader") / SESSION_SECRET_FILE_NAME
    on_postgresql = load_settings({"DATABASE_URL": "postgresql+asyncpg://u:p@db/grader"})
    assert on_postgresql.session.secret_file == Path(SESSION_SECRET_FILE_NAME)
    assert "s" * 40 not in repr(load_settings({"GRADER_SESSION_SECRET": "s" * 40}))


def test_serve__first_start_writes_the_session_secret_next_to_the_database(serve, tmp_path: Path) -> None:
    serve(f"sqlite+aiosqlite:///{tmp_path}/own.db", GRADER_WORKERS="0")
    secret_file = tmp_path / SESSION_SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32
