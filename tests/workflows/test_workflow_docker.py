"""The grade job with the real `grader check` in the real runner image (no shims), then the comment.

The grader is installed the way the workflow installs it: a wheel, into a fresh virtualenv, so the
built-in rubric, hidden tests and quiz key must come from the package itself, not the checkout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.github.comments import described_sha
from tests.conftest import skip_or_fail
from tests.fakegithub.server import FakeGitHub
from tests.feedback.factories import passing_result
from tests.support.docker import IMAGE  # GRADER_IMAGE, as for every Docker test
from tests.support.servers import REPO_ROOT
from tests.workflows.conftest import pull_request_event

CLEAN = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "clean"
SHA = "4" * 40


def _require_runner_image() -> None:
    docker = shutil.which("docker")
    found = docker and subprocess.run([docker, "image", "inspect", IMAGE], capture_output=True,
                                      timeout=60, check=False).returncode == 0
    if not found:
        skip_or_fail(f"needs a Docker engine and the runner image: grader image build --tag {IMAGE}")


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh virtualenv with the grader's wheel (and its dependencies) installed."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder),
                    str(REPO_ROOT)], check=True, timeout=300)
    [wheel] = folder.glob("grader-*.whl")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([venv / "bin" / "pip", "install", "--quiet", str(wheel)], check=True, timeout=600)
    return venv / "bin"


@pytest.mark.docker
@pytest.mark.slow
def test_workflow__real_grading_in_the_runner_image(run_workflow, fake_github: FakeGitHub,
                                                    tmp_path: Path, installed_wheel: Path) -> None:
    _require_runner_image()
    site = subprocess.run([installed_wheel / "python", "-c", "import grader; print(grader.__file__)"], cwd=tmp_path,
                          capture_output=True, text=True, check=True).stdout
    assert site.startswith(str(installed_wheel.parent))  # the wheel, not this checkout
    checkout = tmp_path / "clean"
    shutil.copytree(CLEAN, checkout, ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"))

    # The prepared report is only read by the `grader check` shim, which is not on PATH in this run.
    jobs, _ = run_workflow(pull_request_event(SHA), passing_result("en"), inputs={"runner-image": IMAGE},
                           install=f'echo "{installed_wheel}" >> "$GITHUB_PATH"', checkout=checkout)

    report = json.loads((jobs["comment"].workspace / "grader-report.json").read_text())
    assert jobs["grade"].outputs == {"score": f"{report['score']:.1f}".removesuffix(".0"), "grade": report["grade"]}
    assert {check["id"] for check in report["checks"]} == {"lint", "tests", "coverage", "migrations"}
    assert report["graded_by_service"]  # the hidden tests and the quiz: never graded in the student's repository
    assert all(check["passed"] for check in report["checks"] if check["id"] in {"lint", "tests", "migrations"})
    assert "|---|---:|:---:|" in jobs["grade"].summary
    [comment] = fake_github.comments_on("Codertocat/Hello-World", 2)
    assert described_sha(comment["body"]) == SHA
    assert "graded by the course's service" in comment["body"] or "проверяет сервис курса" in comment["body"]

