"""The migration test's student side, in one process: `upgrade head`, `downgrade base`, `upgrade head`
through Alembic's command API, then the drift check (`alembic_check.py`).

Run as the student (`python -B -c BOOTSTRAP migrations_driver.py ALEMBIC_INI`), so the student's
`env.py` and models are imported once instead of once per step. After each step it sends one JSON line
through the results pipe (GRADER_RESULTS_FD) and waits for a line on stdin: meanwhile the harness stops
every process of the student's and reads the database itself, so what it judges is what that step left.
The harness answers `go` or `stop`: a step that failed, by its own account or by the database's, ends
the sequence; the drift check runs only after the second upgrade.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

CHANNEL_ENV = "GRADER_RESULTS_FD"
ERROR_LINES = 10
HERE = os.path.dirname(os.path.abspath(__file__))


def _send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode() + b"\n"
    while data:
        data = data[os.write(fd, data):]


def _go_on() -> bool:
    """Wait until the harness has looked at the database: True when it says to go on."""
    return sys.stdin.buffer.readline().strip() == b"go"


def _error_lines(exc: BaseException) -> list[str]:
    lines = [line.rstrip() for line in traceback.format_exception(exc) if line.strip()]
    flat = [part for line in lines for part in line.splitlines() if part.strip()]
    return [line[:300] for line in flat[-ERROR_LINES:]]


def _attempt(action: Callable[[], object]) -> list[str] | None:
    """None when the step ran to its end, else the last lines of what it raised (SystemExit included)."""
    try:
        action()
    except BaseException as exc:  # the student's env.py may raise anything
        if isinstance(exc, SystemExit) and exc.code in (None, 0):
            return None
        return _error_lines(exc)
    return None


def _drift(ini: str) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("_grader_alembic_check", os.path.join(HERE, "alembic_check.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        result: dict[str, Any] = module.check(ini)
    except BaseException as exc:  # the student's env.py may raise anything
        lines = [line for line in str(exc).splitlines() if line.strip()]
        return {"error": f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]}
    return result


def main() -> None:
    ini, fd = sys.argv[1], int(os.environ.get(CHANNEL_ENV, "-1"))
    from alembic import command
    from alembic.config import Config

    config = Config(ini)
    plan = (("upgrade", lambda: command.upgrade(config, "head")),
            ("downgrade", lambda: command.downgrade(config, "base")),
            ("upgrade_again", lambda: command.upgrade(config, "head")))
    for name, action in plan:
        started = time.monotonic()
        error = _attempt(action)
        _send(fd, {"step": name, "error_lines": error or [], "ok": error is None,
                   "duration_seconds": time.monotonic() - started})
        if not _go_on():
            return
    started = time.monotonic()
    _send(fd, {"step": "drift", "report": _drift(ini), "duration_seconds": time.monotonic() - started})
