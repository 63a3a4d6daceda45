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

import importlib
import importlib.abc
import importlib.machinery
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
ALIASES_ENV = "GRADER_STUDENT_ALIASES"
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


class PackageAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the lesson's package under the student's name for it: with {"app": "backend.app"},
    `import app.database` gives the very module `backend.app.database` the student's code imports."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def real_name(self, name: str) -> str | None:
        for alias, real in self.aliases.items():
            if name == alias or name.startswith(alias + "."):
                return real + name[len(alias):]
        return None

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(name, self) if self.real_name(name) else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(str(self.real_name(spec.name)))

    def exec_module(self, module: ModuleType) -> None:
        return None


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
    aliases = json.loads(os.environ.pop(ALIASES_ENV, "{}"))
    sys.path.extend(str(path) for path in paths)  # appended: never in front of an installed package
    if aliases:
        sys.meta_path.insert(0, PackageAlias({str(key): str(value) for key, value in aliases.items()}))
    channel.sendall(b'{"ready": true}\n')
    serve(channel, probe)
