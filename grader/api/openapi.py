"""What the OpenAPI schema says beyond the handlers' types: the bearer scheme, error bodies, CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, OpenAPIMediaType, Operation, Schema, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIType

BEARER_SCHEME = "bearerAuth"
SECURITY: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]


class ErrorBody(msgspec.Struct):
    """Every error of the service: one sentence and the status code."""

    error: str
    status_code: int


def api_components() -> Components:
    """Components the application's OpenAPI config merges in: the bearer-token security scheme."""
    scheme = SecurityScheme(type="http", scheme="bearer",
                            description="A token made by `grader token create NAME`.")
    return Components(security_schemes={BEARER_SCHEME: scheme})


def error_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    descriptions = {400: "A parameter is not valid; the error names it and says what it must be.",
                    401: "The bearer token is missing, unknown or revoked.",
                    403: "The token has the read scope; this change needs the write scope.",
                    404: "No such resource."}
    return {code: ResponseSpec(data_container=ErrorBody, description=descriptions[code],
                               generate_examples=False) for code in status_codes}


@dataclass
class CsvAlsoOperation(Operation):
    """An operation whose 200 response is JSON or, on request, CSV (the gradebook for an LMS import)."""

    def __post_init__(self) -> None:
        success: Any = (self.responses or {}).get("200")
        if success is not None and getattr(success, "content", None) is not None:
            success.content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
