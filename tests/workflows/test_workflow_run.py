"""The reusable workflow's steps, run in order against a fixture checkout and the fake GitHub."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from grader.commands.workflow import FORK_NOTICE, READ_ONLY_NOTICE
from grader.github.comments import MARKER, described_sha
from grader.grading.result import grade_to_dict
from tests.fakegithub.server import FakeGitHub
from tests.feedback.factories import failing_result, passing_result
from tests.workflows.conftest import INSTALL_STEP, pull_request_event
from tests.workflows.workflow_files import SOURCE, load

SHA_1 = "1" * 40
SHA_2 = "2" * 40
REPO = "Codertocat/Hello-World"
PR = 2
IMAGE = "registry.example/course/grader-runner@sha256:" + "e" * 64


def test_install_step_installs_the_pinned_package_into_a_venv_on_the_path() -> None:
    """The one step the runs below replace; it must do what the stand-in does (put grader on PATH)."""
    for job in load(SOURCE)["jobs"].values():
        [step] = [step for step in job["steps"] if step["name"] == INSTALL_STEP]
        assert step["env"] == {"GRADER_PACKAGE": "${{ inputs.grader-package }}"}
        assert step["run"].splitlines() == [
            'python3 -m venv "$RUNNER_TEMP/grader-venv"',
            '"$RUNNER_TEMP/grader-venv/bin/pip" install --quiet --disable-pip-version-check '
            '"$GRADER_PACKAGE"',
            'echo "$RUNNER_TEMP/grader-venv/bin" >> "$GITHUB_PATH"',
        ]


def test_workflow__summary_outputs_artifact_and_one_comment(run_workflow, fake_github: FakeGitHub) -> None:
    result = failing_result("ru")

    jobs, calls = run_workflow(pull_request_event(SHA_1), result, inputs={"runner-image": IMAGE})

    grade = jobs["grade"]
    assert grade.outputs == {"score": f"{result.score:.1f}".removesuffix(".0"), "grade": "C"}
    assert "|---|---:|:---:|" in grade.summary
    assert "Оценка C" in grade.summary
    artifact = json.loads((jobs["comment"].workspace / "grader-report.json").read_text())
    assert artifact == grade_to_dict(result)
    assert f"grader check submission --public --format json | GRADER_IMAGE={IMAGE} GRADER_RUBRIC=" in calls.read_text()
    assert f"docker image inspect {IMAGE}" in calls.read_text()
    [comment] = fake_github.comments_on(REPO, PR)
    assert comment["body"].startswith(MARKER)
    assert described_sha(comment["body"]) == SHA_1
    assert "Оценка C" in comment["body"]
    [check_run] = fake_github.check_runs.values()
    assert (check_run["status"], check_run["conclusion"]) == ("completed", "failure")
    assert check_run["head_sha"] == SHA_1
    assert jobs["report"].skipped


def test_workflow__next_push_edits_the_same_comment(run_workflow, fake_github: FakeGitHub) -> None:
    run_workflow(pull_request_event(SHA_1), failing_result("ru"))
    jobs, _ = run_workflow(pull_request_event(SHA_2), passing_result("ru"))

    assert jobs["grade"].outputs == {"score": "100", "grade": "S"}
    [comment] = fake_github.comments_on(REPO, PR)
    assert described_sha(comment["body"]) == SHA_2
    assert "Оценка S" in comment["body"]


def test_workflow__fork_gets_summary_and_artifact_but_no_comment(run_workflow,
                                                                 fake_github: FakeGitHub) -> None:
    jobs, _ = run_workflow(pull_request_event(SHA_1, head_repo="mallory/Hello-World"), failing_result("en"))

    assert jobs["grade"].outputs["grade"] == "C"
    assert "|---|---:|:---:|" in jobs["grade"].summary
    assert (jobs["comment"].workspace / "grader-report.json").is_file()
    assert FORK_NOTICE in jobs["comment"].summary
    assert f"::notice title=grader::{FORK_NOTICE}" in "".join(jobs["comment"].logs)
    assert fake_github.comments_on(REPO, PR) == []
    assert fake_github.check_runs == {}


def test_workflow__artifact_path_is_the_report_the_grade_step_wrote(tmp_path: Path) -> None:
    grade_steps = load(SOURCE)["jobs"]["grade"]["steps"]
    [upload] = [step for step in grade_steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    [check] = [step for step in grade_steps if step["name"] == "Grade"]
    assert check["run"].endswith(f"> {upload['with']['path']}")


def test_workflow__refused_token_still_leaves_summary_and_says_why(run_workflow,
                                                                   fake_github: FakeGitHub) -> None:
    fake_github.inject("issues/list-comments", 403, message="Resource not accessible by integration")

    jobs, _ = run_workflow(pull_request_event(SHA_1), failing_result("en"))

    assert jobs["grade"].outputs["grade"] == "C"
    assert READ_ONLY_NOTICE.format(reason="HTTP 403: Resource not accessible by integration") in (
        jobs["comment"].summary)
    assert fake_github.comments_on(REPO, PR) == []


def test_image_step__unpullable_image_fails_with_one_line(shims: Path, tmp_path: Path) -> None:
    [step] = [step for step in load(SOURCE)["jobs"]["grade"]["steps"] if step["name"] == "Get the runner image"]
    (shims / "docker").write_text('#!/usr/bin/env bash\necho "docker $*" >> "$GRADER_TEST_CALLS"\nexit 1\n')
    calls = tmp_path / "calls.log"
    env = {"PATH": f"{shims}:{os.environ['PATH']}", "GRADER_IMAGE": IMAGE, "GRADER_TEST_CALLS": str(calls)}

    completed = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env,
                               capture_output=True, text=True, timeout=30, check=False)

    assert completed.returncode == 1
    assert completed.stdout == (f"::error title=grader::cannot pull the runner image {IMAGE}; push it to a registry "
                                "the runners can reach and pass it as runner-image\n")
    assert calls.read_text().splitlines() == [f"docker image inspect {IMAGE}", f"docker pull --quiet {IMAGE}"]
