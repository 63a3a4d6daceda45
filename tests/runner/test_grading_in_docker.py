"""Grading fixture submissions in the real runner image: each gets its outcome, hostile ones end
within their limits, are graded, leave no container, and the next run is normal.

All fixtures are graded once per module, two at a time (the CI machine has two cores); the tests
then assert on the results.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from grader.grading.report import InfrastructureError, StepStatus
from grader.grading.result import GradeResult
from grader.grading.rubric import Rubric
from grader.grading.rubric_loader import load_checked_rubric, load_rubric
from grader.pipeline.checkout import grade_checkout
from grader.runner.sandbox import LABEL, DockerSandbox, owner_host
from grader.settings import DependencySettings, GradingSettings, RunnerSettings
from tests.runner.submissions import TEST_RUBRIC, grade_fixtures, make_submission

# Every fixture is graded once per module (two at a time); a busy machine needs more than the default.
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

FIXTURES = ("clean", "lint_errors", "failing_test", "low_coverage", "broken_downgrade", "drifted_models",
            "no_alembic", "syntax_error", "fork_bomb", "memory_hog", "sigterm_loop", "network_egress",
            "env_secrets", "output_flood", "disk_fill", "forged_conftest", "symlink", "package_layout", "startup_error")
SECRETS = {"GITHUB_TOKEN": "ghp_runner_test_secret_token", "GITHUB_WEBHOOK_SECRET": "whsec_runner_test_secret",
           "DATABASE_URL": "postgresql+asyncpg://grader:runner_test_db_password@db/grader"}


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric(TEST_RUBRIC)


@pytest.fixture(scope="module")
def graded(runner_settings: RunnerSettings, rubric: Rubric,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GradeResult]]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():  # the service's secrets are in the grading process' env
            patch.setenv(name, value)
        yield asyncio.run(grade_fixtures(FIXTURES, rubric, runner_settings, tmp_path_factory.mktemp("submissions")))


def _check(result: GradeResult, check_id: str) -> tuple[bool, float, str]:
    check = next(check for check in result.checks if check.id == check_id)
    return check.passed, check.points, check.summary


def _status(result: GradeResult, step_id: str) -> StepStatus:
    step = result.report.step(step_id)
    assert step is not None, f"no {step_id} step"
    return step.status


def test_clean__every_check_passes_with_traceable_versions(graded: dict[str, GradeResult], rubric: Rubric) -> None:
    result = graded["clean"]
    assert [(check.id, check.passed) for check in result.checks if not check.passed] == []
    assert (result.score, result.grade) == (100.0, "S")
    report = result.report
    assert report.image_digest.startswith("sha256:")
    assert report.rubric_sha256 == rubric.sha256
    assert {"ruff", "pytest", "coverage", "alembic", "postgresql", "python"} <= set(report.tool_versions)
    assert [step.name for step in report.migrations] == ["upgrade", "downgrade", "upgrade_again", "drift",
                                                         "single_head"]
    assert report.coverage is not None
    assert report.coverage.percent >= 80


@pytest.mark.parametrize(("fixture", "check_id", "summary_part"), [
    ("lint_errors", "lint", "F401"),
    ("failing_test", "tests", "4 of 5 tests passed"),
    ("low_coverage", "coverage", "target 80 %"),
    ("broken_downgrade", "migrations", "downgrade"),
    ("drifted_models", "migrations", "(drift)"),
    ("no_alembic", "migrations", "no Alembic configuration found"),
    ("syntax_error", "lint", "invalid-syntax"),
])
def test_faulty_submission__fails_exactly_its_check(graded: dict[str, GradeResult], fixture: str, check_id: str,
                                                    summary_part: str) -> None:
    result = graded[fixture]
    failed = {check.id for check in result.checks if not check.passed}
    assert failed == {check_id}
    assert summary_part in _check(result, check_id)[2]
    assert next(c for c in result.checks if c.id == check_id).remediation


def test_package_layout__grades_exactly_like_the_clean_submission(graded: dict[str, GradeResult]) -> None:
    clean, package = graded["clean"], graded["package_layout"]
    assert [(check.id, check.passed) for check in package.checks if not check.passed] == []
    assert [check.points for check in package.checks] == [check.points for check in clean.checks]
    assert {case.id: case.outcome for case in package.report.hidden_tests} == {
        case.id: case.outcome for case in clean.report.hidden_tests}


def test_startup_error__tests_could_not_start_with_the_error(graded: dict[str, GradeResult]) -> None:
    result = graded["startup_error"]
    passed, points, summary = _check(result, "tests")
    assert (passed, points) == (False, 0.0)
    assert summary == "tests could not start: ModuleNotFoundError: No module named 'not_declared_anywhere'"
    step = result.report.step("tests")
    assert step is not None
    assert any("backend/tests/conftest.py" in line for line in step.error_lines)
    assert _check(result, "coverage")[:2] == (False, 0.0)


def test_failing_test__carries_the_assertion_message_and_its_explanation(graded: dict[str, GradeResult]) -> None:
    failed = [case for case in graded["failing_test"].report.tests if case.outcome == "failed"]
    assert [case.message for case in failed] == ["AssertionError: the sum is wrong\nassert (1 + 1) == 3"]


def test_broken_downgrade__records_the_error_lines(graded: dict[str, GradeResult]) -> None:
    steps = {step.name: step for step in graded["broken_downgrade"].report.migrations}
    assert steps["upgrade"].ok
    assert not steps["downgrade"].ok
    assert any("products" in line for line in steps["downgrade"].error_lines)
    assert steps["upgrade_again"].error_lines == ["not run: downgrade failed"]


def test_lint_errors__findings_have_location_and_rule_url(graded: dict[str, GradeResult]) -> None:
    findings = graded["lint_errors"].report.lint
    unused = [finding for finding in findings if finding.code == "F401"]
    assert unused
    assert unused[0].file == "backend/app/helpers.py"
    assert unused[0].line == 1
    assert unused[0].url.startswith("https://docs.astral.sh/ruff/rules/")


@pytest.mark.parametrize(("fixture", "status"), [
    ("fork_bomb", StepStatus.TIMEOUT), ("sigterm_loop", StepStatus.TIMEOUT), ("memory_hog", StepStatus.OOM),
])
def test_hostile_tests__stopped_by_their_limit_and_the_rest_graded(graded: dict[str, GradeResult],
                                                                   runner_settings: RunnerSettings, fixture: str,
                                                                   status: StepStatus) -> None:
    result = graded[fixture]
    assert _status(result, "tests") is status
    step = result.report.step("tests")
    assert step is not None
    assert step.duration_seconds < runner_settings.step_timeout_seconds + 15
    assert _check(result, "tests")[:2] == (False, 0.0)
    assert _status(result, "hidden_tests") is StepStatus.OK
    assert _status(result, "migrations") is StepStatus.OK


def test_network_egress__no_connection_leaves_the_container(graded: dict[str, GradeResult]) -> None:
    egress = [case for case in graded["network_egress"].report.tests if "test_egress" in case.id]
    assert len(egress) == 3
    assert all(case.outcome == "failed" and "OSError" in case.message for case in egress)


def test_env_secrets__no_service_secret_reaches_the_student(graded: dict[str, GradeResult]) -> None:
    report = graded["env_secrets"].report
    outcomes = {case.id.rsplit("::", 1)[-1]: case.outcome for case in report.tests}
    assert outcomes["test_no_service_secret_in_environment"] == "passed"
    assert outcomes["test_hidden_tests_are_unreadable"] == "passed"
    everything = repr(report)
    assert "ENV HOME=/work/scratch/tests/home" in everything  # a fresh HOME of this step
    for value in SECRETS.values():
        assert value not in everything


def test_output_flood__is_cut_and_marked(graded: dict[str, GradeResult]) -> None:
    result = graded["output_flood"]
    step = result.report.step("tests")
    assert step is not None
    assert step.truncated
    assert "tests output after 1,000,000 bytes" in result.report.truncated
    assert len(step.output_tail) <= 3000
    assert _check(result, "tests")[0]


def test_disk_fill__stops_at_the_tmpfs_cap_and_later_steps_run(graded: dict[str, GradeResult]) -> None:
    result = graded["disk_fill"]
    fill = next(case for case in result.report.tests if case.id.endswith("test_fill_the_disk"))
    assert fill.outcome == "failed"
    assert "No space left on device" in fill.message
    assert _status(result, "hidden_tests") is StepStatus.OK
    assert _status(result, "migrations") is StepStatus.OK


def test_forged_conftest__cannot_pass_hidden_tests(graded: dict[str, GradeResult]) -> None:
    result = graded["forged_conftest"]
    hidden = {case.id.rsplit("::", 1)[-1]: case.outcome for case in result.report.hidden_tests}
    assert hidden["test_sessions_keep_attributes_after_commit"] == "failed"
    assert hidden["test_engine_is_async"] == "passed"
    assert _check(result, "hidden_tests")[0] is False


def test_symlink__rejected_with_a_reason_and_graded(graded: dict[str, GradeResult]) -> None:
    result = graded["symlink"]
    assert result.grade == "C"
    for step in result.report.steps:
        assert step.status is StepStatus.FAILED
        assert step.summary == ("submission rejected: symbolic link backend/passwd -> /etc/passwd rejected: "
                                "commit regular files only")


def test_every_run__ended_within_the_run_limit(graded: dict[str, GradeResult],
                                               runner_settings: RunnerSettings) -> None:
    for name, result in graded.items():
        assert result.report.duration_seconds < runner_settings.run_timeout_seconds, name


def _our_containers() -> list[str]:
    listing = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", f"label={LABEL}.pid={os.getpid()}"],
                             capture_output=True, text=True, check=True)
    return listing.stdout.split()


def test_after_hostile_runs__no_container_is_left_and_the_next_run_is_normal(
        graded: dict[str, GradeResult], rubric: Rubric, runner_settings: RunnerSettings, tmp_path: Path) -> None:
    assert _our_containers() == []
    result = asyncio.run(grade_checkout(make_submission("clean", tmp_path), rubric, runner_settings))
    assert (result.score, result.grade) == (100.0, "S")
    assert _our_containers() == []


def test_missing_image__is_an_infrastructure_error(runner_settings: RunnerSettings, rubric: Rubric,
                                                   tmp_path: Path) -> None:
    settings = replace(runner_settings, image="grader-runner:does-not-exist")
    with pytest.raises(InfrastructureError, match="runner image grader-runner:does-not-exist not found"):
        asyncio.run(grade_checkout(make_submission("clean", tmp_path), rubric, settings))


def test_unreachable_engine__is_an_infrastructure_error(runner_settings: RunnerSettings, rubric: Rubric,
                                                        tmp_path: Path) -> None:
    elsewhere = replace(runner_settings, docker_env=(*runner_settings.docker_env,
                                                     ("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")))
    with pytest.raises(InfrastructureError, match="no container engine"):
        asyncio.run(grade_checkout(make_submission("clean", tmp_path), rubric, elsewhere))


def test_remove_orphans__removes_containers_of_dead_workers_only(runner_settings: RunnerSettings) -> None:
    def create(pid: int) -> str:
        labels = {LABEL: "1", f"{LABEL}.host": owner_host(), f"{LABEL}.pid": str(pid),
                  f"{LABEL}.started": str(int(time.time()))}
        args = [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
        created = subprocess.run(["docker", "create", *args, runner_settings.image], capture_output=True, text=True,
                                 check=True)
        return created.stdout.strip()

    dead, alive = create(2**22 + 12345), create(os.getpid())
    try:
        removed = asyncio.run(DockerSandbox(runner_settings).remove_orphans())
        remaining = subprocess.run(["docker", "ps", "--all", "--quiet", "--no-trunc"], capture_output=True, text=True,
                                   check=True).stdout.split()
        assert removed >= 1
        assert dead not in remaining
        assert alive in remaining
    finally:
        subprocess.run(["docker", "rm", "--force", dead, alive], capture_output=True, check=False)


def test_shipped_rubric__grades_the_clean_fixture_s(runner_settings: RunnerSettings, tmp_path: Path) -> None:
    shipped = load_checked_rubric(GradingSettings())
    dependencies = DependencySettings(cache_dir=tmp_path / "deps-cache")  # it installs what a submission declares
    result = asyncio.run(grade_checkout(make_submission("clean", tmp_path), shipped, runner_settings,
                                        dependencies=dependencies))
    assert [(check.id, check.summary) for check in result.checks if not check.passed] == []
    assert (result.score, result.grade) == (100.0, "S")
    assert len(result.report.hidden_tests) >= 5


def test_pull_if_missing__present_image_is_left_alone_and_a_missing_one_is_pulled_or_explained(
        runner_settings: RunnerSettings) -> None:
    assert asyncio.run(DockerSandbox(runner_settings).pull_if_missing()) == "present"
    missing = replace(runner_settings, image="grader-runner-never-built:nope")
    state = asyncio.run(DockerSandbox(missing).pull_if_missing())
    assert state.startswith("not pulled: ")  # no registry answers here: the reason, in one line
    assert "\n" not in state
