"""The harness' run: unpack, hand the folders to their users, start PostgreSQL, run the steps.

Each step is announced (`start`) and reported (`result`) as it happens, so the host shows progress
and still has every finished step when the run is cut short. Each step gets fresh scratch folders for
each user, and whatever a step's users wrote outside their results is removed when it ends.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import time

from . import postgres, scratch
from .context import Context
from .proc import Account
from .protocol import (
    BROKER_DIR,
    EVENT_DONE,
    EVENT_HELLO,
    EVENT_REJECTED,
    EVENT_RESULT,
    EVENT_START,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_SCRATCH,
    HIDDEN_TESTS_DIR,
    HIDDEN_USER,
    OUTCOME_ERROR,
    PG_MOUNT,
    POSTGRES_USER,
    PUBLIC_DIR,
    STUDENT_SCRATCH,
    STUDENT_USER,
    SUBMISSION_DIR,
    emit,
    hidden_test_names,
)
from .steps import STEPS, step_runner
from .unpack import RejectedArchive, chown_tree, restrict_tree, unpack

TOOLS = ("ruff", "pytest", "coverage", "pytest-asyncio", "alembic", "sqlalchemy", "asyncpg")
HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = {"results_plugin.py": "grader_results.py", "hidden_support.py": "grader_hidden_support.py"}


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


def prepare_folders(hidden: Account) -> None:
    """Root-owned parents for the scratch folders, the public folder of the grader's plugins (readable
    by all, writable by none) and the broker's folder (reachable by the hidden user only)."""
    for folder in (STUDENT_SCRATCH, HIDDEN_SCRATCH, PUBLIC_DIR):
        os.makedirs(folder, mode=0o755, exist_ok=True)
    for source, target in PLUGINS.items():
        shutil.copyfile(os.path.join(HERE, source), os.path.join(PUBLIC_DIR, target))
    with open(f"{PUBLIC_DIR}/pytest-hidden.ini", "w") as handle:
        handle.write("[pytest]\n")
    os.makedirs(BROKER_DIR, mode=0o750, exist_ok=True)
    os.chown(BROKER_DIR, 0, hidden.gid)
    os.chmod(BROKER_DIR, 0o750)  # noqa: S103 - the group is the hidden user's only


def main() -> int:
    started = time.monotonic()
    os.umask(0o022)
    try:
        config = unpack(sys.stdin.buffer)
    except (RejectedArchive, OSError, ValueError) as exc:
        emit(EVENT_REJECTED, reason=str(exc)[:500])
        return 0
    student = Account.named(STUDENT_USER, STUDENT_SCRATCH)
    hidden = Account.named(HIDDEN_USER, HIDDEN_SCRATCH)
    chown_tree(SUBMISSION_DIR, student.uid, student.gid)
    for folder in (HIDDEN_TESTS_DIR, HIDDEN_PLUGIN_DIR):
        restrict_tree(folder, hidden.gid)
    prepare_folders(hidden)
    emit(EVENT_HELLO, tool_versions=tool_versions())
    postgres_account = Account.named(POSTGRES_USER, PG_MOUNT)
    ctx = Context(config=config, student=student, hidden=hidden, postgres_account=postgres_account,
                  deadline=started + float(config["run_timeout"]))
    if os.path.isdir(HIDDEN_TESTS_DIR):  # before any of the student's code runs
        ctx.expected_hidden = tuple(hidden_test_names(HIDDEN_TESTS_DIR))
    ctx.server = postgres.start(postgres_account) if config.get("postgres", True) else None
    try:
        _run_steps(ctx)
    finally:
        if ctx.server is not None:
            postgres.stop(ctx.server)
    emit(EVENT_DONE, duration_seconds=time.monotonic() - started)
    return 0


def _step_accounts(ctx: Context, step_id: str) -> tuple[Account, ...]:
    """This step's users, each with fresh scratch folders of its own (the hidden user only where it runs)."""
    ctx.student = Account.named(STUDENT_USER, f"{STUDENT_SCRATCH}/{step_id}")
    ctx.hidden = Account.named(HIDDEN_USER, f"{HIDDEN_SCRATCH}/{step_id}")
    users = (ctx.student, ctx.hidden) if step_id == "hidden_tests" else (ctx.student,)
    scratch.prepare(users)
    return users


def _run_steps(ctx: Context) -> None:
    for step_id in ctx.config.get("steps", list(STEPS)):
        emit(EVENT_START, step=step_id)
        if ctx.deadline - time.monotonic() <= 0:
            emit(EVENT_RESULT, step=step_id, outcome="timeout", summary="the run's time limit was reached")
            continue
        users = _step_accounts(ctx, step_id)
        try:
            result = step_runner(ctx, step_id)()
        except Exception as exc:  # the harness' own failure: the host retries the run
            result = {"outcome": OUTCOME_ERROR, "summary": f"{type(exc).__name__}: {exc}"[:300]}
        finally:
            scratch.clean(users)
        emit(EVENT_RESULT, step=step_id, **result)
