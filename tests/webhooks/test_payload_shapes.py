"""Signed payloads GitHub would never send: a 400 naming the field, nothing stored, on either database.

Before, some of these were queued, others were a 500 (an int past 64 bits, a RecursionError) or, on
PostgreSQL, a 503 "database unavailable" logged as an outage (an int past the column, a NUL byte).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from grader.app import create_app
from tests.conftest import WEBHOOK_SECRET, Database, make_settings, shipped_rubric
from tests.support.webhooks import pull_request_payload, signed_delivery
from tests.webhooks.test_webhook import URL, count_rows

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Edit:
    def edit(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = payload
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


BAD_FIELDS: list[tuple[str, Edit, str]] = [
    ("pr-number-negative", _set("pull_request.number", -5), "$.pull_request.number"),
    ("pr-number-2-to-the-40", _set("pull_request.number", 2**40), "$.pull_request.number"),
    ("repository-id-2-to-the-70", _set("repository.id", 2**70), "$.repository.id"),
    ("repository-id-zero", _set("repository.id", 0), "$.repository.id"),
    ("installation-id-negative", _set("installation", {"id": -1}), "$.installation.id"),
    ("login-of-10000-characters", _set("pull_request.user.login", "a" * 10_000), "$.pull_request.user.login"),
    ("login-with-nul", _set("pull_request.user.login", "ali\x00ce"), "$.pull_request.user.login"),
    ("head-sha-path", _set("pull_request.head.sha", "../../" + "a" * 5_000), "$.pull_request.head.sha"),
    ("head-sha-upper-case", _set("pull_request.head.sha", "A" * 40), "$.pull_request.head.sha"),
    ("title-with-nul", _set("pull_request.title", "fix\x00"), "$.pull_request.title"),
    ("full-name-with-nul", _set("repository.full_name", "course/re\x00po"), "$.repository.full_name"),
    ("full-name-dot-dot", _set("repository.full_name", "course/.."), "$.repository.full_name"),
    ("number-is-a-float", _set("pull_request.number", 2.5), "$.pull_request.number"),
]


@pytest.fixture
async def client(each_database: Database):
    settings = make_settings(each_database.url)
    async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False)) as client:
        yield client


async def _post(client: AsyncTestClient, body: bytes, delivery_id: str | None = None) -> Any:
    _, headers = signed_delivery(body, secret=WEBHOOK_SECRET, delivery_id=delivery_id)
    return await client.post(URL, content=body, headers=headers)


@pytest.mark.parametrize(("case", "edit", "field"), BAD_FIELDS, ids=[case for case, _, _ in BAD_FIELDS])
async def test_webhook__field_out_of_githubs_shape_is_a_400_naming_it_and_nothing_is_stored(
        client, each_database: Database, case: str, edit: Edit, field: str) -> None:
    payload = pull_request_payload(sha="a" * 40)
    edit(payload)
    response = await _post(client, json.dumps(payload).encode())
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert set((await count_rows(each_database.sessionmaker)).values()) == {0}


async def test_webhook__nesting_past_the_bound_is_a_400_before_parsing(client, each_database: Database) -> None:
    payload = json.dumps(pull_request_payload(sha="b" * 40)).encode()
    deep = payload[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await _post(client, deep)
    assert response.status_code == 400
    assert "nests deeper than 64 levels" in response.json()["error"]
    assert set((await count_rows(each_database.sessionmaker)).values()) == {0}


async def test_webhook__values_at_githubs_limits_are_stored(client, each_database: Database) -> None:
    payload = pull_request_payload(sha="c" * 40, number=2**31 - 1, repo_id=2**63 - 1, login="a" * 38 + "z")
    payload["installation"] = {"id": 2**63 - 1}
    payload["repository"]["full_name"] = "o" * 39 + "/" + "r" * 100
    payload["pull_request"]["title"] = "é" * 1024
    response = await _post(client, json.dumps(payload).encode())
    assert response.status_code == 202, response.text
    rows = await count_rows(each_database.sessionmaker)
    assert (rows["submissions"], rows["jobs"]) == (1, 1)


@pytest.mark.parametrize(("header", "value"), [("x-github-delivery", "../etc/passwd"),
                                               ("x-github-delivery", "d" * 101),
                                               ("x-github-event", "Pull Request")])
async def test_webhook__delivery_headers_out_of_shape_are_a_400(client, each_database: Database, header: str,
                                                                value: str) -> None:
    body, headers = signed_delivery(pull_request_payload(sha="d" * 40), secret=WEBHOOK_SECRET)
    response = await client.post(URL, content=body, headers={**headers, header: value})
    assert response.status_code == 400
    assert header.title().replace("Github", "GitHub") in response.json()["error"]
