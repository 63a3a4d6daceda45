"""/ready tells the truth: a SQLite file deleted or replaced under the service is not ready, and its
deliveries get 503 instead of 202 for rows that would land in a file nobody reads again."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from litestar.testing import AsyncTestClient

from grader.app import create_app
from grader.db.schema import upgrade_to_head
from tests.conftest import WEBHOOK_SECRET, make_settings, shipped_rubric
from tests.support.webhooks import pull_request_payload, signed_delivery
from tests.webhooks.test_webhook import URL


async def _migrated(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    return url


def _delivery(sha: str) -> tuple[bytes, dict[str, str]]:
    return signed_delivery(pull_request_payload(sha=sha * 40), secret=WEBHOOK_SECRET)


async def _ready_then_changed(tmp_path: Path, change) -> tuple[list[int], dict[str, object]]:
    url = await _migrated(tmp_path / "grader.db")
    async with AsyncTestClient(app=create_app(make_settings(url), shipped_rubric(), workers=False)) as client:
        before = [(await client.post(URL, content=body, headers=headers)).status_code
                  for body, headers in [_delivery("a")]] + [(await client.get("/ready")).status_code]
        await change(tmp_path / "grader.db")
        ready = await client.get("/ready")
        body, headers = _delivery("b")
        delivery = await client.post(URL, content=body, headers=headers)
    return before, {"ready": ready.status_code, "ready_error": ready.json()["error"],
                    "delivery": delivery.status_code, "delivery_error": delivery.json()["error"]}


async def test_ready__fails_and_deliveries_get_503_once_the_sqlite_file_is_deleted(tmp_path: Path) -> None:
    async def delete(path: Path) -> None:
        path.unlink()

    before, after = await _ready_then_changed(tmp_path, delete)
    assert before == [202, 200]
    assert (after["ready"], after["delivery"]) == (503, 503)
    assert "deleted or replaced" in str(after["ready_error"])
    assert "database" in str(after["delivery_error"]).lower()
    assert not (tmp_path / "grader.db").exists()  # nothing made a new, empty file in its place


async def test_ready__fails_and_deliveries_get_503_once_the_sqlite_file_is_replaced(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    await _migrated(other / "grader.db")

    async def replace(path: Path) -> None:
        (other / "grader.db").replace(path)

    before, after = await _ready_then_changed(tmp_path, replace)
    assert before == [202, 200]
    assert (after["ready"], after["delivery"]) == (503, 503)


async def test_ready__a_file_moved_back_in_place_is_ready_again(tmp_path: Path) -> None:
    url = await _migrated(tmp_path / "grader.db")
    async with AsyncTestClient(app=create_app(make_settings(url), shipped_rubric(), workers=False)) as client:
        assert (await client.get("/ready")).status_code == 200
        shutil.move(tmp_path / "grader.db", tmp_path / "aside.db")
        assert (await client.get("/ready")).status_code == 503
        shutil.move(tmp_path / "aside.db", tmp_path / "grader.db")
        assert (await client.get("/ready")).status_code == 200
        body, headers = _delivery("c")
        assert (await client.post(URL, content=body, headers=headers)).status_code == 202


async def test_ready__on_postgresql_answers_while_the_database_does(postgres_url: str, postgres_sessionmaker) -> None:
    async with AsyncTestClient(app=create_app(make_settings(postgres_url), shipped_rubric(),
                                              workers=False)) as client:
        assert (await client.get("/ready")).json() == {"status": "ready"}
