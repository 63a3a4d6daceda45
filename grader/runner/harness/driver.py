"""The student's side of the hidden checks, run as the student: the rubric's probe exercises the
student's code here and reports what it saw; the hidden tests decide what that is worth.

Protocol, one JSON object per line each way on the socket the broker handed over: first the driver
says `{"ready": true}` (the probe is loaded); then request `{"id": nonce, "op": name, "args": {...}}`,
answer `{"id": nonce, "ok": true, "value": ...}` or `{"id": nonce, "ok": false, "error": "..."}`.
The probe (the rubric's `probe.py`, public) names its
operations in `OPS`. The probe and its libraries are imported before the student's folders are
appended to sys.path, so a student's package cannot stand in for an installed one. Anything the
student's code does to end or derail this process (exit, skip, kill) leaves a request unanswered,
which the hidden side counts as a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
from types import ModuleType
from typing import Any

DRIVER_FD_ENV = "GRADER_DRIVER_FD"
PROBE_ENV = "GRADER_PROBE"
PATHS_ENV = "GRADER_STUDENT_PATHS"
REQUEST_LIMIT = 1024 * 1024
ERROR_CHARS = 500


def load_probe(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_grader_probe", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the probe {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # SQLAlchemy resolves the probe's annotations through it
    spec.loader.exec_module(module)
    return module


def describe_error(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:ERROR_CHARS]


def answer(probe: ModuleType, request: Any) -> dict[str, Any]:
    """One request's answer; whatever the student's code raises (even SystemExit) is an error answer."""
    if not isinstance(request, dict) or not isinstance(request.get("args", {}), dict):
        return {"ok": False, "error": "malformed request"}
    operation = getattr(probe, "OPS", {}).get(request.get("op"))
    if operation is None:
        return {"id": request.get("id"), "ok": False, "error": f"unknown operation {request.get('op')!r}"}
    try:
        value = operation(**request.get("args", {}))
        json.dumps(value)
    except BaseException as exc:  # the student's code may raise anything, SystemExit included
        return {"id": request.get("id"), "ok": False, "error": describe_error(exc)}
    return {"id": request.get("id"), "ok": True, "value": value}


def serve(channel: socket.socket, probe: ModuleType) -> None:
    reader = channel.makefile("rb")
    while line := reader.readline(REQUEST_LIMIT):
        try:
            request = json.loads(line)
        except (ValueError, RecursionError):
            request = None
        channel.sendall(json.dumps(answer(probe, request)).encode() + b"\n")


def main() -> None:
    fd = int(os.environ.pop(DRIVER_FD_ENV))
    probe = load_probe(os.environ.pop(PROBE_ENV))
    paths = json.loads(os.environ.pop(PATHS_ENV, "[]"))
    channel = socket.socket(fileno=fd)
    channel.setblocking(True)  # the descriptor may come non-blocking from the broker's timeout
    sys.path.extend(str(path) for path in paths)  # appended: never in front of an installed package
    channel.sendall(b'{"ready": true}\n')
    serve(channel, probe)
