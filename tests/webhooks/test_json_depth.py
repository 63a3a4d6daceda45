"""The nesting depth measured before parsing agrees with the parsed document's own depth."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from grader.json_depth import JsonTooDeepError, check_json_depth, json_depth
from tests.support.webhooks import PAYLOADS

# Strings full of what could fool a scanner: brackets, quotes, backslashes in every arrangement.
TRICKY = ["[", "]", "{", "}", '"', "\\", '\\"[', "]\\\\", '"]]\\', "\\u005b", "[[[[", "}}}}", ""]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def _document(rng: random.Random, level: int = 0) -> Any:
    roll = rng.random()
    if level > 12 or roll < 0.3:
        return rng.choice([*TRICKY, 1, 2.5, None, True])
    if roll < 0.65:
        return [_document(rng, level + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(TRICKY) + str(key): _document(rng, level + 1) for key in range(rng.randint(0, 3))}


def test_json_depth__equals_the_parsed_depth_of_random_documents_with_tricky_strings() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        document = _document(rng)
        for body in (json.dumps(document), json.dumps(document, ensure_ascii=False, separators=(",", ":"))):
            assert json_depth(body.encode()) == _depth(document), body


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("*.json")), ids=lambda path: path.stem)
def test_json_depth__of_githubs_example_payloads(path) -> None:
    body = path.read_bytes()
    assert json_depth(body) == _depth(json.loads(body))


def test_check_json_depth__refuses_past_the_limit_and_an_unclosed_string_hides_nothing() -> None:
    check_json_depth(b"[" * 64 + b"]" * 64, 64)
    with pytest.raises(JsonTooDeepError, match="deeper than 64 levels"):
        check_json_depth(b"[" * 65 + b"]" * 65, 64)
    with pytest.raises(JsonTooDeepError):
        check_json_depth(b'{"a": "\\\\"' + b"[" * 100_000, 64)  # the string closed before the brackets
    check_json_depth(b'{"a": "' + b"[" * 100_000, 64)  # inside an unclosed string: the parser recurses into none
