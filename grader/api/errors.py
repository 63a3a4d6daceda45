"""The service's error format, and 400s that name the bad parameter and say what it must be."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import ValidationException

# What each parameter of the API must be, as the second half of "<name> must be <rule>".
PARAMETER_RULES: dict[str, str] = {
    "limit": "an integer from 1 to 200",
    "cursor": "the next_cursor value of a previous page",
    "repository": "a repository full name such as owner/name",
    "student": "a GitHub login",
    "pr": "a pull request number (a positive integer)",
    "grade": "a grade band of the rubric",
    "since": "an ISO 8601 date-time such as 2026-01-31T12:00:00Z",
    "status": "one of queued, running, done, failed, cancelled",
    "format": "one of json, csv, canvas, moodle",
    "assignment": "an assignment id of the course file",
    "assignment_id": "an assignment id of the course file",
    "sort": "one of the gradebook's column names",
    "submission_id": "a submission id (a positive integer)",
    "login": "a GitHub login",
    "data": "a JSON object as the schema describes",
    "score": "a number from 0 to 100",
    "note": "1 to 2000 characters saying why",
    "until": "an ISO 8601 date-time with a zone, or a date",
}
# Handler arguments whose query name differs (`format` would shadow the builtin in Python).
_QUERY_NAMES = {"output_format": "format"}


def _first_bad_key(exc: ValidationException) -> str | None:
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict) and item.get("key"):
            return _QUERY_NAMES.get(str(item["key"]), str(item["key"]))
    return None


def parameter_error_message(exc: ValidationException) -> str:
    key = _first_bad_key(exc)
    if key is None:
        return "The request parameters are not valid."
    rule = PARAMETER_RULES.get(key)
    return f"{key} must be {rule}." if rule else f"The parameter {key} is not valid."


def error_response(status_code: int, message: str) -> Response[dict[str, Any]]:
    """The service's one error format: `{"error": "<one sentence>", "status_code": N}`."""
    return Response({"error": message, "status_code": status_code}, status_code=status_code,
                    media_type=MediaType.JSON)


def bad_parameter(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    return error_response(400, parameter_error_message(exc))
