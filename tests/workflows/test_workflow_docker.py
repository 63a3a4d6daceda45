"""The grade job with the real `grader check` in the real runner image (no shims), then the comment."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.github.comments import described_sha
from tests.conftest import skip_or_fail
from tests.fakegithub.server import FakeGitHub
from tests.feedback.factories import passing_result
from tests.support.docker import IMAGE  # GRADER_IMAGE, as for every Docker test
from tests.workflows.conftest import REAL_GRADER, pull_request_event

CLEAN = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "clean"
SHA = "4" * 40


def _require_runner_image() -> None:
    docker = shutil.which("docker")
    found = docker and subprocess.run([docker, "image", "inspect", IMAGE], capture_output=True,
                                      timeout=60, check=False).returncode == 0
    if not found:
        skip_or_fail(f"needs a Docker engine and the runner image: grader image build --tag {IMAGE}")


@pytest.mark.docker
@pytest.mark.slow
def test_workflow__real_grading_in_the_runner_image(run_workflow, fake_github: FakeGitHub,
                                                    tmp_path: Path) -> None:
    _require_runner_image()
    checkout = tmp_path / "clean"
    shutil.copytree(CLEAN, checkout, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))

    # The prepared report is only read by the `grader check` shim, which is not on PATH in this run.
    jobs, _ = run_workflow(pull_request_event(SHA), passing_result("en"), inputs={"runner-image": IMAGE},
                           install=f'echo "{REAL_GRADER.parent}" >> "$GITHUB_PATH"', checkout=checkout)

    report = json.loads((jobs["comment"].workspace / "grader-report.json").read_text())
    assert jobs["grade"].outputs == {"score": f"{report['score']:.1f}".removesuffix(".0"), "grade": report["grade"]}
    assert {check["id"] for check in report["checks"]} >= {"lint", "tests", "coverage", "migrations"}
    assert all(check["passed"] for check in report["checks"] if check["id"] in {"lint", "tests", "migrations"})
    assert "|---|---:|:---:|" in jobs["grade"].summary
    [comment] = fake_github.comments_on("Codertocat/Hello-World", 2)
    assert described_sha(comment["body"]) == SHA

