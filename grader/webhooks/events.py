"""Typed views of the webhook payloads we act on, and the (event, action) routing decision.

Only the fields the service uses are declared, each with GitHub's own shape (`grader.github.shapes`):
msgspec ignores the rest and rejects a payload whose declared fields are missing, of the wrong type or
out of shape, with the path of the field in its message. Nesting is measured before anything is parsed.
"""

from __future__ import annotations

import enum
import urllib.parse
from datetime import datetime
from typing import Annotated

import msgspec

from grader.github.shapes import Action, FullName, GitHubId, Login, PullRequestNumber, Sha, Title
from grader.json_depth import JsonTooDeepError, check_json_depth

DEFAULT_MAX_DEPTH = 64


class PayloadError(ValueError):
    """The body is not a payload of the event it claims to be."""


class _User(msgspec.Struct):
    login: Login


class _Head(msgspec.Struct):
    sha: Sha


class _PullRequest(msgspec.Struct):
    number: PullRequestNumber
    user: _User
    head: _Head
    title: Title = ""
    updated_at: datetime | None = None  # orders pushes to one PR by GitHub's clock, not by arrival


class _Repository(msgspec.Struct):
    id: GitHubId
    full_name: FullName


class _Installation(msgspec.Struct):
    id: GitHubId


class PullRequestEvent(msgspec.Struct):
    action: Action
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

_GRADED_EVENTS = frozenset(event for (event, _), decision in ROUTES.items() if decision is Decision.GRADE)


class _ActionOnly(msgspec.Struct):
    action: Annotated[str, msgspec.Meta(max_length=100)] = ""


_action_decoder = msgspec.json.Decoder(_ActionOnly)
_pull_request_decoder = msgspec.json.Decoder(PullRequestEvent)


def decide(event: str, action: str) -> Decision:
    return ROUTES.get((event, action), Decision.IGNORE)


def parse_delivery(event: str, body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> tuple[str, PullRequestEvent | None]:
    """The payload's action, and the push to grade (None for events and actions we only acknowledge).

    Raises PayloadError, naming the field, for a body GitHub would not send."""
    try:
        check_json_depth(body, max_depth)
    except JsonTooDeepError as exc:
        raise PayloadError(str(exc)) from None
    if event in _GRADED_EVENTS:  # most deliveries are pushes to grade: one decoding, not two
        try:
            push = _pull_request_decoder.decode(body)
        except msgspec.DecodeError:
            pass  # not of our shape: its action alone says whether that is an error or a delivery we ignore
        else:
            return push.action, push if decide(event, push.action) is Decision.GRADE else None
    action = read_action(body)
    if decide(event, action) is Decision.IGNORE:
        return action, None
    return action, parse_pull_request(body)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def payload_json(body: bytes, content_type: str) -> bytes:
    """The JSON of a verified delivery. GitHub's default webhook content type is a form whose `payload`
    field holds the JSON (the signature covers the form as sent); `application/json` is the JSON itself."""
    if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
        return body
    try:
        fields = urllib.parse.parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=16,
                                       strict_parsing=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("The form-encoded body is malformed; set the webhook's content type to "
                           "application/json.") from None
    values = fields.get("payload", [])
    if len(values) != 1:
        raise PayloadError("A form-encoded delivery must carry its JSON in one payload field; set the "
                           "webhook's content type to application/json.")
    return values[0].encode("utf-8")


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
