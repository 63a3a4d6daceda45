"""The hidden tests, as the hidden user, in a process that never runs the student's code.

The student's code runs in processes of its own, as the student, started through the broker
(`broker.py`) and driven through the rubric's probe (`driver.py`); the hidden tests see only their
answers and what the student's code left in the run's PostgreSQL, which they read themselves. So the
student's code can neither read the hidden tests nor hold or write their verdicts: results come from
the grader's plugin through a pipe, and the list of hidden tests is known before anything runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from typing import Any

from . import layout, postgres
from .context import TESTS_DATABASE, Context
from .proc import BASE_PATH
from .protocol import (
    BROKER_DIR,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_PLUGIN_MODULE,
    HIDDEN_TESTS_DIR,
    OUTCOME_ERROR,
    OUTCOME_NOT_RUN,
    PROBE_FILE,
    PUBLIC_DIR,
    SUBMISSION_DIR,
)
from .step_results import channel_text, outcome_fields

PYTEST_OWN_ERRORS = (3, 4)  # usage or internal errors: about the grader's options, never the tests' source
PROBE_DATABASES = {"app": "probe", "models": "probe_models"}
HARNESS_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BROKER_BOOT = ("import json, sys\nsys.path.insert(0, sys.argv[1])\n"
               "from harness.broker import serve\nserve(json.loads(sys.argv[2]))\n")


def run(ctx: Context) -> dict[str, Any]:
    if not os.path.isdir(HIDDEN_TESTS_DIR):
        return {"outcome": OUTCOME_NOT_RUN, "summary": "this rubric has no hidden tests"}
    error = _prepare_databases(ctx) if ctx.server is not None else ""
    if error:
        return {"outcome": OUTCOME_ERROR, "summary": error}
    broker = start_broker(ctx)
    try:
        outcome = ctx.run(ctx.hidden, pytest_argv(ctx), ctx.hidden.home, _env(ctx), channel=True)
    finally:
        broker.kill()
        broker.wait()
        if broker.stdout is not None:
            broker.stdout.close()
    tail = outcome.output if outcome.exit_code in PYTEST_OWN_ERRORS else ""
    return {**outcome_fields(outcome), "output_tail": tail, "expected_tests": list(ctx.expected_hidden),
            "artifacts": {"results.json": channel_text(outcome)}}


def _prepare_databases(ctx: Context) -> str:
    """A live server, emptied of whatever the student's earlier steps left (in the probe databases, and
    in the student's own, whose tables could have filled the disk)."""
    commands = ["DROP OWNED BY CURRENT_USER"]
    for database in (TESTS_DATABASE, *PROBE_DATABASES.values()):
        commands += [f"\\c {database}", "DROP OWNED BY CURRENT_USER"]
    return ctx.postgres_ready(lambda: postgres.psql(ctx.student, "student", *commands).exit_code == 0)


def _env(ctx: Context) -> dict[str, str]:
    databases = {name: {"student_url": postgres.database_url(ctx.student.name, database),
                        "dsn": postgres.dsn(ctx.hidden.name, database), "student_role": ctx.student.name}
                 for name, database in PROBE_DATABASES.items()} if ctx.server is not None else {}
    return {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADER_PROBE_SOCKET": f"{BROKER_DIR}/student.sock",
            "GRADER_PROBE_DATABASES": json.dumps(databases)}


def pytest_argv(ctx: Context) -> list[str]:
    """Options pinned by the grader: no conftest, ini file, plugin, addopts or cache of anyone else;
    plain asserts, so a failure message is the test's own words and never a quote of its source. The
    hidden tests are plain functions (the student's code runs elsewhere): no asyncio plugin is loaded."""
    argv = ["python", "-I", "-B", "-m", "pytest", "-c", f"{PUBLIC_DIR}/pytest-hidden.ini",
            f"--rootdir={HIDDEN_TESTS_DIR}", "--noconftest", "-p", "no:cacheprovider", "-o", "addopts=",
            "-o", f"pythonpath={PUBLIC_DIR} {HIDDEN_PLUGIN_DIR}", "-p", "grader_results", "-p", "grader_hidden_support",
            "--assert=plain", f"--basetemp={ctx.hidden.tmp}/basetemp", "-q"]
    if os.path.isfile(f"{HIDDEN_PLUGIN_DIR}/{HIDDEN_PLUGIN_MODULE}.py"):
        argv += ["-p", HIDDEN_PLUGIN_MODULE]
    return [*argv, HIDDEN_TESTS_DIR]


def start_broker(ctx: Context) -> subprocess.Popen[bytes]:
    """The broker, listening once this returns (it says `ready`)."""
    path = f"{BROKER_DIR}/student.sock"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    student, hidden = ctx.student, ctx.hidden
    config = {"socket": path, "account": {"uid": student.uid, "gid": student.gid, "name": student.name},
              "client": {"uid": hidden.uid, "gid": hidden.gid}, "home": student.home, "tmp": student.tmp,
              "path": BASE_PATH, "python": sys.executable, "probe": f"{PUBLIC_DIR}/{PROBE_FILE}",
              **student_side(ctx)}
    broker = subprocess.Popen([sys.executable, "-I", "-B", "-c", BROKER_BOOT, HARNESS_PARENT, json.dumps(config)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert broker.stdout is not None
    ready, _, _ = select.select([broker.stdout], [], [], 10.0)
    if not ready or broker.stdout.readline().strip() != b"ready":
        broker.kill()
        raise RuntimeError("the grader's broker did not start")
    return broker


def student_side(ctx: Context) -> dict[str, Any]:
    """Where the driver finds the student's modules, and the rubric's environment for them. The
    lesson's package (the rubric's `hidden_tests.package`, e.g. "app") is imported under the name the
    student's code gives it (pytest's rule), so the probe's `app.database` and the student's
    `backend.app.database` are one module."""
    paths = ctx.source_roots() or [SUBMISSION_DIR]
    package = str(ctx.config.get("hidden_package") or "")
    found = layout.package_location(SUBMISSION_DIR, ctx.python_paths(), package) if package else None
    if found is not None:
        paths = list(dict.fromkeys([found.root, *paths]))
    return {"paths": paths, "aliases": layout.aliases(package, found.module) if found else {},
            "env": ctx.probe_env(PROBE_DATABASES["app"])}
