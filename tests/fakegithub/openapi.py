"""Checks a request against the vendored GitHub OpenAPI operations: method, path, parameters, body.

A small validator for the JSON Schema subset GitHub's description uses. It is stricter than GitHub
in one way on purpose: an object property the schema does not name is rejected (unless the schema
says `additionalProperties: true`), so a misspelt field fails a test instead of being ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "openapi" / "github-operations.json"
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float),
}


class RequestRejected(ValueError):
    """The request is not one GitHub's description allows; the message says why."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]

    def parameters(self, location: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == location]


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}$")


def load_operations(path: Path = SPEC_PATH) -> list[Operation]:
    paths = json.loads(path.read_text())["paths"]
    return [Operation(op["operationId"], method.upper(), template, _compile(template), op)
            for template, methods in paths.items() for method, op in methods.items()]


def match(operations: list[Operation], method: str, path: str) -> tuple[Operation, dict[str, str]]:
    for operation in operations:
        found = operation.pattern.match(path)
        if found and operation.method == method:
            return operation, found.groupdict()
    raise RequestRejected(f"{method} {path} is not a vendored GitHub operation")


def _is_type(value: Any, type_name: str) -> bool:
    if isinstance(value, bool) and type_name in {"integer", "number"}:
        return False
    return isinstance(value, _TYPES[type_name])


def _check_object(value: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    properties = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in value]
    if missing:
        raise RequestRejected(f"{where}: missing required {missing}")
    extra = schema.get("additionalProperties", False)
    for name, item in value.items():
        if name in properties:
            validate(item, properties[name], f"{where}.{name}")
        elif isinstance(extra, dict):
            validate(item, extra, f"{where}.{name}")
        elif extra is not True:
            raise RequestRejected(f"{where}: unknown property {name!r}")


def _check_array(value: list[Any], schema: dict[str, Any], where: str) -> None:
    if len(value) > schema.get("maxItems", len(value)) or len(value) < schema.get("minItems", 0):
        raise RequestRejected(f"{where}: {len(value)} items is outside the allowed count")
    for index, item in enumerate(value):
        validate(item, schema.get("items", {}), f"{where}[{index}]")


def _check_scalar(value: Any, schema: dict[str, Any], where: str) -> None:
    if "enum" in schema and value not in schema["enum"]:
        raise RequestRejected(f"{where}: {value!r} is not one of {schema['enum']}")
    too_long = isinstance(value, str) and len(value) > schema.get("maxLength", len(value))
    if too_long or (isinstance(value, str) and len(value) < schema.get("minLength", 0)):
        raise RequestRejected(f"{where}: length {len(value)} is outside the allowed range")
    if schema.get("format") == "date-time" and isinstance(value, str) and not re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        raise RequestRejected(f"{where}: {value!r} is not an ISO 8601 date-time")


def _check_combinators(value: Any, schema: dict[str, Any], where: str) -> None:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            passing = 0
            for option in schema[key]:
                try:
                    validate(value, {"additionalProperties": True, **option}, where)
                    passing += 1
                except RequestRejected:
                    pass
            if passing == 0 or (key == "oneOf" and passing > 1):
                raise RequestRejected(f"{where}: matches {passing} of the {key} alternatives")
    for option in schema.get("allOf", []):
        validate(value, {"additionalProperties": True, **option}, where)


def validate(value: Any, schema: dict[str, Any], where: str = "body") -> None:
    """Raises `RequestRejected` naming the first place where `value` breaks `schema`."""
    if value is None:
        if schema.get("nullable") or not schema.get("type"):
            return
        raise RequestRejected(f"{where}: null is not allowed")
    type_name = schema.get("type")
    if type_name and not _is_type(value, type_name):
        raise RequestRejected(f"{where}: expected {type_name}, got {type(value).__name__}")
    if isinstance(value, dict) and (type_name == "object" or "properties" in schema):
        _check_object(value, schema, where)
    elif isinstance(value, list):
        _check_array(value, schema, where)
    else:
        _check_scalar(value, schema, where)
    _check_combinators(value, schema, where)


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            raise RequestRejected(f"{raw!r} is not an integer")
        return int(raw)
    return raw


def check_request(operation: Operation, path_args: dict[str, str], query: dict[str, str],
                  body: Any) -> None:
    for param in operation.parameters("path"):
        validate(_coerce(path_args[param["name"]], param["schema"]), param["schema"], f"path.{param['name']}")
    known = {param["name"]: param for param in operation.parameters("query")}
    for name, raw in query.items():
        if name not in known:
            raise RequestRejected(f"query parameter {name!r} is not allowed")
        validate(_coerce(raw, known[name]["schema"]), known[name]["schema"], f"query.{name}")
    request_body = operation.spec.get("requestBody")
    if request_body is None:
        if body is not None:
            raise RequestRejected(f"{operation.operation_id} takes no body")
        return
    if body is None:
        if request_body.get("required"):
            raise RequestRejected(f"{operation.operation_id} needs a JSON body")
        return
    validate(body, request_body["content"]["application/json"]["schema"])
