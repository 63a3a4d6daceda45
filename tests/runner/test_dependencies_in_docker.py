"""A submission's own dependencies in the real runner image: installed from a package index on disk
(wheels only), mounted read-only after the image's packages, cached for the next push; the rubric's
environment and its choice of PostgreSQL for the student's tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from grader.grading.report import DependencyNote, StepStatus
from grader.grading.result import GradeResult
from grader.grading.rubric_loader import load_rubric
from grader.pipeline.checkout import grade_checkout
from grader.runner.dependencies.step import prebuild
from grader.runner.sandbox import DockerSandbox
from grader.settings import DependencySettings, RunnerSettings
from tests.runner.submissions import ROOT, make_submission
from tests.support.wheels import write_index, write_sdist, write_wheel

pytestmark = [pytest.mark.docker, pytest.mark.slow]

DEPENDENCIES_RUBRIC = ROOT / "tests" / "fixtures" / "rubric" / "dependencies-test.toml"


def _index(folder: Path) -> str:
    write_wheel(folder, "tiny-helper", "1.0", {"tiny_helper/__init__.py": "from tiny_dep import X\nVALUE = X + 1\n"},
                requires=["tiny-dep>=1"])
    write_wheel(folder, "tiny-dep", "1.2", {"tiny_dep.py": "X = 41\n"})
    # a package that tries to replace pytest and to run at every interpreter start
    write_wheel(folder, "shadow-pytest", "0.1", {
        "pytest/__init__.py": "raise SystemExit('a declared package replaced pytest')\n",
        "sitecustomize.py": "raise SystemExit('a declared package ran at start-up')\n",
        "shadow_helper.py": "HELPER = 'kept'\n"})
    write_sdist(folder, "source-only", "0.1")
    return write_index(folder)


@pytest.fixture(scope="module")
def graded_twice(runner_settings: RunnerSettings,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[GradeResult, GradeResult]:
    folder = tmp_path_factory.mktemp("deps")
    settings = DependencySettings(index_url=_index(folder / "index"), cache_dir=folder / "cache")
    rubric = load_rubric(DEPENDENCIES_RUBRIC)
    checkout = make_submission("declared_deps", folder / "submissions")

    async def twice() -> tuple[GradeResult, GradeResult]:
        first = await grade_checkout(checkout, rubric, runner_settings, dependencies=settings)
        return first, await grade_checkout(checkout, rubric, runner_settings, dependencies=settings)

    return asyncio.run(twice())


def test_declared_dependencies__installed_from_the_utf16_requirements(graded_twice: tuple[GradeResult,
                                                                                         GradeResult]) -> None:
    deps = graded_twice[0].report.dependencies
    assert deps is not None
    assert deps.source == "requirements.txt"
    assert deps.packages == ["shadow-pytest==0.1", "tiny-dep==1.2", "tiny-helper==1.0"]
    assert (deps.failure, deps.detail) == ("no_wheel", "source-only")  # left out, the rest installed
    assert DependencyNote("editable", "-e .") in deps.notes
    assert DependencyNote("option", "--index-url https://example.invalid/simple") in deps.notes
    step = graded_twice[0].report.step("dependencies")
    assert step is not None
    assert step.status is StepStatus.FAILED


def test_declared_dependencies__the_students_tests_use_them_and_the_rubrics_environment(
        graded_twice: tuple[GradeResult, GradeResult]) -> None:
    result = graded_twice[0]
    outcomes = {case.id.rsplit("::", 1)[-1]: (case.outcome, case.message) for case in result.report.tests
                if "test_declared" in case.id}
    assert len(outcomes) == 6
    assert all(outcome == "passed" for outcome, _ in outcomes.values()), outcomes
    tests = next(check for check in result.checks if check.id == "tests")
    assert tests.passed, tests.summary  # pytest-cov's options in addopts did not stop pytest
    hidden = next(check for check in result.checks if check.id == "hidden_tests")
    assert hidden.passed, hidden.summary
    migrations = next(check for check in result.checks if check.id == "migrations")
    assert migrations.passed, migrations.summary  # the tests' database is not the migrations' one


def test_declared_dependencies__the_next_push_uses_the_cache(graded_twice: tuple[GradeResult,
                                                                                GradeResult]) -> None:
    first, second = (result.report.dependencies for result in graded_twice)
    assert first is not None
    assert second is not None
    assert (first.cached, second.cached) == (False, True)
    assert second.packages == first.packages
    assert second.seconds < 1.0


def test_allowlist__the_rubrics_set_is_built_at_start_up_and_every_submission_gets_it(
        runner_settings: RunnerSettings, tmp_path: Path) -> None:
    settings = DependencySettings(index_url=_index(tmp_path / "index"), cache_dir=tmp_path / "cache")
    folder = DEPENDENCIES_RUBRIC.parent
    text = (DEPENDENCIES_RUBRIC.read_text()
            .replace('policy = "declared"', 'policy = "allowlist"\nextras = ["tiny-helper"]')
            .replace('path = "hidden_tests"', f'path = "{folder / "hidden_tests"}"')
            .replace('key = "../../../', f'key = "{folder.parents[2]}/')
            .replace('probe = "../../../', f'probe = "{folder.parents[2]}/'))
    (tmp_path / "allowlist.toml").write_text(text)
    rubric = load_rubric(tmp_path / "allowlist.toml")
    checkout = make_submission("clean", tmp_path / "submissions")

    async def start_then_grade() -> tuple[object, GradeResult]:
        built = await prebuild(rubric, DockerSandbox(runner_settings), settings)
        return built, await grade_checkout(checkout, rubric, runner_settings, dependencies=settings)

    built, result = asyncio.run(start_then_grade())

    assert built is not None
    deps = result.report.dependencies
    assert deps is not None
    assert (deps.policy, deps.packages, deps.cached) == ("allowlist", ["tiny-dep==1.2", "tiny-helper==1.0"], True)
