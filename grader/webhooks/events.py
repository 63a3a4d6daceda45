"""Typed views of the webhook payloads we act on, and the (event, action) routing decision.

Only the fields the service uses are declared; msgspec ignores the rest and rejects a payload whose
declared fields are missing or of the wrong type.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec


class PayloadError(ValueError):
    """The body is not a payload of the event it claims to be."""


class _User(msgspec.Struct):
    login: str


class _Head(msgspec.Struct):
    sha: str


class _PullRequest(msgspec.Struct):
    number: int
    user: _User
    head: _Head
    title: str = ""
    updated_at: datetime | None = None  # orders pushes to one PR by GitHub's clock, not by arrival


class _Repository(msgspec.Struct):
    id: int
    full_name: str


class _Installation(msgspec.Struct):
    id: int


class PullRequestEvent(msgspec.Struct):
    action: str
    pull_request: _PullRequest
    repository: _Repository
    installation: _Installation | None = None


class Decision(enum.Enum):
    GRADE = "grade"  # store the push and queue a grading job
    IGNORE = "ignore"  # acknowledge, store nothing


# Adding an event the service acts on is adding a row here (and its handler in intake).
ROUTES: dict[tuple[str, str], Decision] = {
    ("pull_request", "opened"): Decision.GRADE,
    ("pull_request", "synchronize"): Decision.GRADE,
    ("pull_request", "reopened"): Decision.GRADE,
}

class _ActionOnly(msgspec.Struct):
    action: str = ""


_action_decoder = msgspec.json.Decoder(_ActionOnly)
_pull_request_decoder = msgspec.json.Decoder(PullRequestEvent)


def decide(event: str, action: str) -> Decision:
    return ROUTES.get((event, action), Decision.IGNORE)


def read_action(body: bytes) -> str:
    """The payload's `action` ('' for events without one); raises PayloadError on malformed JSON."""
    try:
        return _action_decoder.decode(body).action
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
        raise PayloadError(f"The body is not a JSON object with a string action: {exc}.") from None


def parse_pull_request(body: bytes) -> PullRequestEvent:
    try:
        return _pull_request_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"The pull_request payload is not valid: {exc}.") from None
    except msgspec.DecodeError as exc:
        raise PayloadError(f"The body is not a JSON object: {exc}.") from None
