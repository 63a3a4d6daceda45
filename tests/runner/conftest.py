"""Docker for the runner's tests: skipped with a reason outside CI, a failure under CI=true."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from grader.settings import RunnerSettings
from tests.conftest import skip_or_fail

IMAGE = os.environ.get("GRADER_IMAGE", "grader-runner:latest")
# Small limits keep the hostile fixtures quick; the defaults are the README's.
TEST_LIMITS = RunnerSettings(image=IMAGE, memory_mb=512, cpus=1.0, pids=128, tmpfs_mb=256, step_timeout_seconds=15,
                             run_timeout_seconds=150, output_limit_bytes=1_000_000)


def _unavailable() -> str:
    if shutil.which("docker") is None:
        return "needs Docker: install docker.io and start dockerd"
    probe = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False)
    if "Cannot connect" in probe.stderr:
        return "needs a running Docker engine: start dockerd"
    if probe.returncode != 0:
        return f"needs the runner image {IMAGE}: run `grader image build --base grader-base:bookworm`"
    return ""


@pytest.fixture(scope="session")
def runner_settings() -> RunnerSettings:
    reason = _unavailable()
    if reason:
        skip_or_fail(reason)
    return TEST_LIMITS
