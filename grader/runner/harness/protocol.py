"""The contract between the host and the harness: paths and users inside the container, the input
archive's layout and the events on stdout. The host imports this module too, so both sides agree.
"""

from __future__ import annotations

import json
import sys
from typing import Any

STUDENT_USER = "student"
HIDDEN_USER = "hidden"
POSTGRES_USER = "postgres"

# tmpfs mounts made by the host; each is size-capped and owned by root until the harness hands
# parts of it to a user.
WORK_MOUNT = "/work"  # the student's files and everything the student's steps write
GRADER_MOUNT = "/grader"  # hidden tests and their results: the student's uid cannot write here
PG_MOUNT = "/pg"  # the throwaway PostgreSQL cluster
TMP_MOUNT = "/tmp"  # a private tmpfs of the container, not the host's /tmp

SUBMISSION_DIR = f"{WORK_MOUNT}/src"
STUDENT_OUT = f"{WORK_MOUNT}/out"
HIDDEN_TESTS_DIR = f"{GRADER_MOUNT}/hidden"
HIDDEN_PLUGIN_DIR = f"{GRADER_MOUNT}/plugin"
HIDDEN_OUT = f"{GRADER_MOUNT}/hidden-out"
PG_SOCKET_DIR = f"{PG_MOUNT}/run"
# The submission's installed dependencies: a read-only bind mount that the image's `.pth` file puts on
# sys.path after the image's own site-packages, so nothing in it can replace a tool of the grader.
DEPS_MOUNT = "/opt/deps"

# Top-level entries of the tar archive the host sends on stdin.
ARCHIVE_CONFIG = "config.json"
ARCHIVE_SUBMISSION = "submission"
ARCHIVE_HIDDEN = "hidden"
ARCHIVE_PLUGIN = "plugin"  # the rubric's hidden_tests/conftest.py, loaded as an explicit plugin
HIDDEN_PLUGIN_MODULE = "grader_hidden_conftest"

STEP_IDS = ("lint", "tests", "hidden_tests", "migrations")
ARTIFACT_LIMIT_BYTES = 4_000_000  # one artifact (ruff JSON, JUnit XML, coverage JSON) at most
OUTPUT_TAIL_CHARS = 3000

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


def emit(event: str, **fields: Any) -> None:
    """Write one event line; flushed at once so the host can show progress as it happens."""
    sys.stdout.write(json.dumps({"event": event, **fields}, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def parse_event(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("event"), str) else None
