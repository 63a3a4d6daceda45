"""The contract between the host and the harness: paths and users inside the container, the input
archive's layout and the events on stdout. The host imports this module too, so both sides agree.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import threading
from typing import Any

STUDENT_USER = "student"
HIDDEN_USER = "hidden"
POSTGRES_USER = "postgres"

# tmpfs mounts made by the host; each is size-capped and owned by root until the harness hands
# parts of it to a user.
WORK_MOUNT = "/work"  # the student's files and the student's scratch space
GRADER_MOUNT = "/grader"  # hidden tests, the grader's plugins, the hidden user's scratch space
PG_MOUNT = "/pg"  # the throwaway PostgreSQL cluster
TMP_MOUNT = "/tmp"  # a private tmpfs of the container, not the host's /tmp
SHM_DIR = "/dev/shm"  # Docker's shared-memory tmpfs, writable by every user: wiped like /tmp

SUBMISSION_DIR = f"{WORK_MOUNT}/src"
STUDENT_SCRATCH = f"{WORK_MOUNT}/scratch"  # HOME and TMPDIR of one step, removed after it
HIDDEN_TESTS_DIR = f"{GRADER_MOUNT}/hidden"  # root:hidden 0750: never readable by the student
HIDDEN_PLUGIN_DIR = f"{GRADER_MOUNT}/plugin"  # the rubric's conftest.py, root:hidden 0750
HIDDEN_SCRATCH = f"{GRADER_MOUNT}/scratch"  # the hidden user's HOME and TMPDIR of one step
PUBLIC_DIR = f"{GRADER_MOUNT}/public"  # root 0755: the grader's plugins and the rubric's probe
BROKER_DIR = f"{GRADER_MOUNT}/broker"  # root:hidden 0750: the socket that starts student processes
PG_SOCKET_DIR = f"{PG_MOUNT}/run"
# The submission's installed dependencies: a read-only bind mount that the image's `.pth` file puts on
# sys.path after the image's own site-packages, so nothing in it can replace a tool of the grader.
DEPS_MOUNT = "/opt/deps"

# Top-level entries of the tar archive the host sends on stdin.
ARCHIVE_CONFIG = "config.json"
ARCHIVE_SUBMISSION = "submission"
ARCHIVE_HIDDEN = "hidden"
ARCHIVE_PLUGIN = "plugin"  # the rubric's hidden_tests/conftest.py, loaded as an explicit plugin
ARCHIVE_PROBE = "probe"  # the rubric's probe: the student-side half of the hidden checks (public)
HIDDEN_PLUGIN_MODULE = "grader_hidden_conftest"
PROBE_FILE = "probe.py"

STEP_IDS = ("lint", "tests", "hidden_tests", "migrations")
COMMAND_PREFIX = "command:"  # a rubric's `command` check is the step `command:<check id>` (config["commands"])
ARTIFACT_LIMIT_BYTES = 4_000_000  # one artifact (ruff JSON, test results, coverage) at most
EVENT_LIMIT_BYTES = 12_000_000  # one event line; above it the step's artifacts are dropped, with the reason
OUTPUT_TAIL_CHARS = 3000
CHANNEL_ENV = "GRADER_RESULTS_FD"  # the pipe a grader-run tool writes its machine-readable results to
# `python -B -c BOOTSTRAP FILE ARGS...`: runs FILE's main() without putting FILE's folder (the
# harness, whose module names could shadow a student's) on the student's sys.path.
BOOTSTRAP = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_grader_entry', sys.argv.pop(1))\n"
    "module = sys.modules['_grader_entry'] = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.main()\n"
)

# Events: one JSON object per line on the container's stdout, which only the harness writes.
EVENT_HELLO = "hello"  # {"tool_versions": {...}}
EVENT_START = "start"  # {"step": id}
EVENT_RESULT = "result"  # {"step": id, "outcome": ..., ...}
EVENT_REJECTED = "rejected"  # {"reason": ...}: the archive could not be unpacked safely
EVENT_DONE = "done"  # {"duration_seconds": ...}

# Outcomes of a process run by the harness; the host maps them onto report statuses.
OUTCOME_EXITED = "exited"
OUTCOME_TIMEOUT = "timeout"
OUTCOME_OOM = "oom"
OUTCOME_NOT_RUN = "not_run"
OUTCOME_ERROR = "error"  # the harness itself could not run the step (e.g. PostgreSQL did not start)


def encode_event(event: str, **fields: Any) -> str:
    """One event line, never longer than EVENT_LIMIT_BYTES: oversized artifacts are dropped and said so.

    Artifacts are capped in bytes, but JSON escapes a control character into six, so the cap alone
    does not bound the line.
    """
    line = json.dumps({"event": event, **fields}, ensure_ascii=False)
    if len(line.encode("utf-8", "replace")) <= EVENT_LIMIT_BYTES:
        return line
    fields = {**fields, "artifacts": {}, "dropped": f"the step's results were larger than "
                                                   f"{EVENT_LIMIT_BYTES // 1_000_000} MB"}
    line = json.dumps({"event": event, **fields}, ensure_ascii=False)
    if len(line.encode("utf-8", "replace")) <= EVENT_LIMIT_BYTES:
        return line
    return json.dumps({"event": event, "step": fields.get("step"), "outcome": fields.get("outcome"),
                       "artifacts": {}, "dropped": fields["dropped"]})


def emit(event: str, **fields: Any) -> None:
    """Write one event line; flushed at once so the host can show progress as it happens."""
    sys.stdout.write(encode_event(event, **fields) + "\n")
    sys.stdout.flush()


def parse_event(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and isinstance(value.get("event"), str) else None


_PARSING = threading.Lock()


def parse_python(source: bytes | str) -> ast.Module:
    """`ast.parse`, one parse at a time in this process: CPython 3.11 corrupts the AST converter's state
    when two threads parse at once (gh-106905; the service's own parses go through `grader.syntax`)."""
    with _PARSING:
        return ast.parse(source)


def declared_tests(source: bytes) -> set[str]:
    """Test functions of one test file (module level or in `Test*` classes), found by parsing it."""
    tree = parse_python(source)
    found: set[str] = set()
    for node in tree.body:
        bodies = [node] if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else []
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            bodies = [item for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)]
        found.update(item.name for item in bodies if item.name.startswith("test"))
    return found


def hidden_test_names(root: str) -> list[str]:
    """Every hidden test the rubric holds, known before anything of the student's runs."""
    names: set[str] = set()
    for folder, _, files in os.walk(root):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as handle:
                    names |= declared_tests(handle.read())
    return sorted(names)
