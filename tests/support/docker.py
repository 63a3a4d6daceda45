"""Docker and the runner image for tests, with small limits (the defaults are the README's)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace

from grader.settings import DOCKER_CLIENT_ENV, RunnerSettings

IMAGE = os.environ.get("GRADER_IMAGE", "grader-runner:latest")
# Small limits keep the hostile fixtures quick; the step limit leaves an honest submission room on a
# loaded machine (its tests take ~3 s idle and up to ~30 s with every core busy), so only the fixtures
# that never end reach it.
TEST_LIMITS = RunnerSettings(image=IMAGE, memory_mb=512, cpus=1.0, pids=128, tmpfs_mb=256, step_timeout_seconds=40,
                             run_timeout_seconds=150, output_limit_bytes=1_000_000,
                             docker_env=tuple((name, os.environ[name]) for name in DOCKER_CLIENT_ENV
                                              if name in os.environ))


# The runner variant of the front-end rubric (Node.js, Vitest, ESLint), built by `.ci/run`.
FRONTEND_IMAGE = os.environ.get("GRADER_FRONTEND_IMAGE", "grader-runner:frontend")
FRONTEND_BUILD = "grader image build --base grader-base:bookworm --rubric rubric/frontend-vitest.toml --tag"


def _unavailable(image: str = IMAGE, build: str = "grader image build --base grader-base:bookworm --tag") -> str:
    if shutil.which("docker") is None:
        return "needs Docker: install docker.io and start dockerd"
    probe = subprocess.run(["docker", "image", "inspect", image], capture_output=True, text=True, check=False)
    if "Cannot connect" in probe.stderr:
        return "needs a running Docker engine: start dockerd"
    if probe.returncode != 0:
        return f"needs the runner image {image}: run `{build} {image}`"
    return ""


def runner_settings_or_reason() -> tuple[RunnerSettings, str]:
    return TEST_LIMITS, _unavailable()


def frontend_settings_or_reason() -> tuple[RunnerSettings, str]:
    return replace(TEST_LIMITS, image=FRONTEND_IMAGE), _unavailable(FRONTEND_IMAGE, FRONTEND_BUILD)
