"""The fake itself: it must reject what GitHub's description rejects, or the other tests prove nothing."""

from __future__ import annotations

import json

import pytest
import requests

from tests.fakegithub.openapi import RequestRejected, load_operations, match, validate
from tests.fakegithub.server import FakeGitHub
from tests.github.conftest import PR_NUMBER, REPO

AUTH = {"Authorization": "token test-token"}


def _post(fake: FakeGitHub, path: str, body: object) -> requests.Response:
    return requests.post(f"{fake.base_url}{path}", data=json.dumps(body), headers=AUTH, timeout=5)


def test_fake__rejects_an_unknown_body_field_and_records_why(fake_github: FakeGitHub) -> None:
    response = _post(fake_github, f"/repos/{REPO}/issues/{PR_NUMBER}/comments", {"body": "hi", "bodyy": "x"})

    assert response.status_code == 422
    assert "unknown property 'bodyy'" in fake_github.rejections.pop()
    assert fake_github.comments == {}


def test_fake__rejects_completing_a_check_run_without_conclusion(fake_github: FakeGitHub) -> None:
    created = _post(fake_github, f"/repos/{REPO}/check-runs", {"name": "grader", "head_sha": "a" * 40})
    response = requests.patch(f"{fake_github.base_url}/repos/{REPO}/check-runs/{created.json()['id']}",
                              data=json.dumps({"status": "completed"}), headers=AUTH, timeout=5)

    assert response.status_code == 422
    assert "anyOf" in fake_github.rejections.pop()


def test_fake__rejects_an_operation_it_does_not_know(fake_github: FakeGitHub) -> None:
    response = requests.delete(f"{fake_github.base_url}/repos/{REPO}", headers=AUTH, timeout=5)

    assert response.status_code == 422
    assert "not a vendored GitHub operation" in fake_github.rejections.pop()


def test_fake__answers_401_without_the_token(fake_github: FakeGitHub) -> None:
    response = requests.get(f"{fake_github.base_url}/repos/{REPO}/issues/{PR_NUMBER}/comments", timeout=5)

    assert response.status_code == 401


def test_fake__stores_a_valid_comment(fake_github: FakeGitHub) -> None:
    response = _post(fake_github, f"/repos/{REPO}/issues/{PR_NUMBER}/comments", {"body": "hello"})

    assert response.status_code == 201
    assert [c["body"] for c in fake_github.comments_on(REPO, PR_NUMBER)] == ["hello"]


@pytest.mark.parametrize(("value", "schema"), [
    ("x" * 11, {"type": "string", "maxLength": 10}),
    ([1] * 51, {"type": "array", "maxItems": 50}),
    (True, {"type": "integer"}),
    ("soon", {"type": "string", "format": "date-time"}),
    (None, {"type": "string"}),
])
def test_validate__rejects_values_outside_the_schema(value: object, schema: dict) -> None:
    with pytest.raises(RequestRejected):
        validate(value, schema)


def test_match__path_parameters_are_captured() -> None:
    operation, args = match(load_operations(), "PATCH", "/repos/o/r/issues/comments/42")

    assert operation.operation_id == "issues/update-comment"
    assert args == {"owner": "o", "repo": "r", "comment_id": "42"}
