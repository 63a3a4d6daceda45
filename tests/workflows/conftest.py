"""Fixtures for running the reusable workflow's steps here: an event file, the fake GitHub, shims.

The test-only switch: a `grader` shim first on PATH answers `grader check` with a prepared report
(and logs how it was called) and hands every other sub-command to the real `grader`; a `docker` shim
answers `docker image inspect`. So the steps run without Docker; the `docker`-marked test runs the
real `grader check` in the real image instead.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.grading.result import GradeResult, grade_to_dict
from tests.conftest import FAKE_GITHUB_TOKEN
from tests.fakegithub.server import BOT, FakeGitHub
from tests.support.webhooks import example_payload
from tests.workflows.local_runner import JobRun, LocalRunner
from tests.workflows.workflow_files import SOURCE

INSTALL_STEP = "Install grader"
REAL_GRADER = Path(sys.executable).with_name("grader")

GRADER_SHIM = """#!/usr/bin/env bash
set -eu
echo "grader $* | GRADER_IMAGE=${GRADER_IMAGE:-} GRADER_RUBRIC=${GRADER_RUBRIC:-}" >> "$GRADER_TEST_CALLS"
if [ "$1" = "check" ]; then
  [ -d "$2" ] || { echo "grader: $2 is not a directory" >&2; exit 2; }
  cat "$GRADER_TEST_CHECK_REPORT"
  exit 0
fi
exec "$GRADER_TEST_REAL_GRADER" "$@"
"""
DOCKER_SHIM = """#!/usr/bin/env bash
echo "docker $*" >> "$GRADER_TEST_CALLS"
[ "$1 $2" = "image inspect" ]
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def shims(tmp_path: Path) -> Path:
    folder = tmp_path / "shims"
    folder.mkdir()
    _executable(folder / "grader", GRADER_SHIM)
    _executable(folder / "docker", DOCKER_SHIM)
    return folder


def pull_request_event(head_sha: str, head_repo: str | None = None) -> dict[str, Any]:
    event = example_payload("pull_request.synchronize.1")
    event["pull_request"]["head"]["sha"] = head_sha
    if head_repo is not None:
        event["pull_request"]["head"]["repo"]["full_name"] = head_repo
    return event


@pytest.fixture
def run_workflow(tmp_path: Path, fake_github: FakeGitHub,
                 shims: Path) -> Callable[..., tuple[dict[str, JobRun], Path]]:
    """Run every job of the reusable workflow for one push; returns the jobs and the calls log."""
    runs = iter(range(1, 100))

    def run(event: dict[str, Any], result: GradeResult, inputs: dict[str, Any] | None = None,
            env: dict[str, str] | None = None, install: str | None = None,
            checkout: Path | None = None) -> tuple[dict[str, JobRun], Path]:
        root = tmp_path / f"run-{next(runs)}"
        (root / "submission").mkdir(parents=True)
        (root / "submission" / "README.md").write_text("the student's code\n")
        checkout_source = checkout or root / "submission"
        event_path, report_path, calls = root / "event.json", root / "report.json", root / "calls.log"
        event_path.write_text(json.dumps(event))
        report_path.write_text(json.dumps(grade_to_dict(result)))
        calls.touch()
        pr_key = (event["repository"]["full_name"], event["number"])
        fake_github.pulls[pr_key] = event["pull_request"]["head"]["sha"]
        base_env = {
            "PATH": os.environ["PATH"], "HOME": str(root), "LANG": "C.UTF-8", "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": fake_github.base_url, "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": event["repository"]["full_name"], "GITHUB_EVENT_NAME": "pull_request",
            "GRADER_COMMENT_AUTHOR": BOT["login"], "GRADER_TEST_CALLS": str(calls),
            "GRADER_TEST_CHECK_REPORT": str(report_path), "GRADER_TEST_REAL_GRADER": str(REAL_GRADER),
            **(env or {}),
        }
        runner = LocalRunner(
            workflow=SOURCE, root=root, checkout_source=checkout_source,
            inputs={"grader-package": "grader @ git+https://github.com/course/grader@v1", **(inputs or {})},
            github={"token": FAKE_GITHUB_TOKEN, "event": event}, event_path=event_path, base_env=base_env,
            stand_ins={INSTALL_STEP: install or f'echo "{shims}" >> "$GITHUB_PATH"'},
        )
        return runner.run(), calls

    return run
