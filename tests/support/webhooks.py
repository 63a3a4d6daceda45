"""Signed GitHub deliveries built from the vendored example payloads."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from grader.webhooks.signature import sign

PAYLOADS = Path(__file__).resolve().parents[1] / "data" / "webhooks"


@cache
def _example(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def example_payload(name: str) -> dict[str, Any]:
    """A fresh copy of a vendored payload, e.g. `pull_request.opened.1`."""
    return copy.deepcopy(_example(name))


def pull_request_payload(action: str = "opened", *, sha: str | None = None, number: int | None = None,
                         repo_id: int | None = None, login: str | None = None,
                         updated_at: str | None = None) -> dict[str, Any]:
    payload = example_payload(f"pull_request.{action}.1")
    pr = payload["pull_request"]
    if updated_at is not None:
        pr["updated_at"] = updated_at
    if sha is not None:
        pr["head"]["sha"] = sha
    if number is not None:
        pr["number"] = payload["number"] = number
    if repo_id is not None:
        payload["repository"]["id"] = repo_id
        payload["repository"]["full_name"] = f"course/repo-{repo_id}"
    if login is not None:
        pr["user"]["login"] = login
    return payload


def signed_delivery(payload: dict[str, Any] | bytes, event: str = "pull_request", *, secret: str,
                    delivery_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery_id or str(uuid.uuid4()),
        "x-hub-signature-256": sign(secret, body),
    }
    return body, headers
