"""The harness' run: unpack, hand the folders to their users, start PostgreSQL, run the steps.

Each step is announced (`start`) and reported (`result`) as it happens, so the host shows progress
and still has every finished step when the run is cut short.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from . import postgres, steps
from .proc import Account, kill_user_processes
from .protocol import (
    EVENT_DONE,
    EVENT_HELLO,
    EVENT_REJECTED,
    EVENT_RESULT,
    EVENT_START,
    GRADER_MOUNT,
    HIDDEN_OUT,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_TESTS_DIR,
    HIDDEN_USER,
    POSTGRES_USER,
    STUDENT_OUT,
    STUDENT_USER,
    SUBMISSION_DIR,
    TMP_MOUNT,
    WORK_MOUNT,
    emit,
)
from .unpack import RejectedArchive, chown_tree, restrict_tree, unpack

TOOLS = ("ruff", "pytest", "coverage", "pytest-asyncio", "alembic", "sqlalchemy", "asyncpg")
STEPS: dict[str, Callable[[steps.Context], dict[str, Any]]] = {
    "lint": steps.lint, "tests": steps.tests, "hidden_tests": steps.hidden_tests, "migrations": steps.migrations,
}


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "postgresql": _pg_version()}
    for tool in TOOLS:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[tool] = importlib.metadata.version(tool)
    return versions


def _pg_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        output = subprocess.run([f"{postgres.PG_BIN}/postgres", "--version"], capture_output=True, text=True,
                                timeout=10, check=False).stdout
        found = re.search(r"\d+(\.\d+)+", output)
        return found.group(0) if found else output.strip()
    return ""


def prepare_folders(student: Account, hidden: Account) -> None:
    """Home, temp and result folders; the student's cannot be written by the hidden user or back."""
    for account, folders in ((student, (student.home, STUDENT_OUT)), (hidden, (hidden.home, hidden.tmp, HIDDEN_OUT))):
        for folder in folders:  # all made first: root cannot write into a folder it gave away
            os.makedirs(folder, mode=0o755, exist_ok=True)
        for folder in folders:
            os.chown(folder, account.uid, account.gid)
    with open(f"{GRADER_MOUNT}/pytest-hidden.ini", "w") as handle:
        handle.write("[pytest]\n")


def main() -> int:
    started = time.monotonic()
    os.umask(0o022)
    student = Account.named(STUDENT_USER, f"{WORK_MOUNT}/home", TMP_MOUNT)
    hidden = Account.named(HIDDEN_USER, f"{GRADER_MOUNT}/hidden-home")
    try:
        config = unpack(sys.stdin.buffer)
    except (RejectedArchive, OSError, ValueError) as exc:
        emit(EVENT_REJECTED, reason=str(exc))
        return 0
    chown_tree(SUBMISSION_DIR, student.uid, student.gid)
    for folder in (HIDDEN_TESTS_DIR, HIDDEN_PLUGIN_DIR):
        restrict_tree(folder, hidden.gid)
    prepare_folders(student, hidden)
    emit(EVENT_HELLO, tool_versions=tool_versions())
    ctx = steps.Context(config=config, student=student, hidden=hidden,
                        deadline=started + float(config["run_timeout"]))
    server = postgres.start(Account.named(POSTGRES_USER, "/pg")) if config.get("postgres", True) else None
    try:
        _run_steps(ctx, server)
    finally:
        if server is not None:
            postgres.stop(server)
    emit(EVENT_DONE, duration_seconds=time.monotonic() - started)
    return 0


def _run_steps(ctx: steps.Context, server: Any) -> None:
    for step_id in ctx.config.get("steps", list(STEPS)):
        needs_postgres = ("hidden_tests", "migrations", *(("tests",) if ctx.config.get("tests_database") == "postgres"
                                                          else ()))
        if step_id in needs_postgres and server is not None and ctx.postgres_error is None:
            ctx.postgres_error = postgres.wait_ready(server)
        emit(EVENT_START, step=step_id)
        if ctx.deadline - time.monotonic() <= 0:
            emit(EVENT_RESULT, step=step_id, outcome="timeout", summary="the run's time limit was reached")
            continue
        result = STEPS[step_id](ctx)
        kill_user_processes(ctx.student.uid)
        kill_user_processes(ctx.hidden.uid)
        emit(EVENT_RESULT, step=step_id, **result)
