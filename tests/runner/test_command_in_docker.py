"""The front-end rubric graded end to end in its runner variant (Node.js, Vitest, ESLint): each
fixture gets its verdict from what really ran, not from files the student committed or configured.

Every fixture is graded once per module, two at a time; the tests then assert on the results.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.grading.report import StepStatus
from grader.grading.result import CheckGrade, GradeResult
from grader.grading.rubric import Rubric
from grader.grading.rubric_loader import load_rubric
from grader.pipeline.checkout import grade_checkout
from grader.settings import RunnerSettings
from tests.conftest import skip_or_fail
from tests.support.docker import frontend_settings_or_reason

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "frontend"
SHIPPED = ROOT / "rubric" / "frontend-vitest.toml"
SHORT = FIXTURES / "frontend-test.toml"
TEST_FILE, MODULE = "src/cart.test.js", "src/cart.js"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _failing(root: Path) -> None:
    _edit(root / TEST_FILE, "toBe(11)", "toBe(12)")
    _edit(root / MODULE, "export function total", "var unused = 1;\n\nexport function total")


def _forged(root: Path) -> None:
    """Committed results of a perfect run, and tests that cannot even load."""
    (root / "reports").mkdir()
    cases = "".join(f'<testcase classname="a" name="t{i}"/>' for i in range(50))
    (root / "reports" / "junit.xml").write_text(f"<testsuites><testsuite>{cases}</testsuite></testsuites>")
    (root / "coverage").mkdir()
    (root / "coverage" / "coverage-summary.json").write_text(json.dumps({"total": {"lines": {"pct": 100}}}))
    _edit(root / TEST_FILE, 'import { describe', 'throw new Error("tests that never load");\nimport { describe')


def _own_lint_config(root: Path) -> None:
    """The student's own ESLint configuration ignores everything; the rubric's is the one used."""
    (root / "eslint.config.js").write_text("export default [{ ignores: ['**'] }];\n")
    _edit(root / MODULE, "export function total", "/* eslint-disable */\nvar unused = 1;\n\nexport function total")


def _coverage_hint(root: Path) -> None:
    """Untested code hidden from coverage with a V8 hint: the coverage check is withheld for review."""
    _edit(root / MODULE, "export function total", "/* v8 ignore next 3 */\nexport function untested() {\n"
          "  return 1;\n}\n\nexport function total")


def _endless(root: Path) -> None:
    _edit(root / TEST_FILE, '  it("totals every line", () => {',
          '  it("never ends", () => {\n    for (;;) { Math.random(); }\n  });\n\n  it("totals every line", () => {')


def _flood(root: Path) -> None:
    """40 MB written straight to the command's output, by a set-up hook in Vitest's own process."""
    (root / "vitest.config.js").write_text('export default { test: { globalSetup: "./flood.js" } };\n')
    (root / "flood.js").write_text('export default function flood() {\n'
                                   '  for (let i = 0; i < 400000; i++) process.stdout.write("x".repeat(100) + "\\n");\n'
                                   '}\n')


VARIANTS: dict[str, tuple[Path, Callable[[Path], None] | None]] = {
    "clean": (SHIPPED, None), "failing": (SHIPPED, _failing), "forged": (SHIPPED, _forged),
    "own_lint_config": (SHIPPED, _own_lint_config),
    "coverage_hint": (SHIPPED, _coverage_hint), "endless": (SHORT, _endless), "flood": (SHORT, _flood),
}


@pytest.fixture(scope="module")
def frontend_settings() -> RunnerSettings:
    settings, reason = frontend_settings_or_reason()
    if reason:
        skip_or_fail(reason)
    return settings


@pytest.fixture(scope="module")
def graded(frontend_settings: RunnerSettings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, GradeResult]:
    parent = tmp_path_factory.mktemp("frontend")
    gate = asyncio.Semaphore(2)
    rubrics: dict[Path, Rubric] = {path: load_rubric(path) for path in (SHIPPED, SHORT)}

    async def one(name: str) -> tuple[str, GradeResult]:
        rubric_path, change = VARIANTS[name]
        checkout = parent / name
        shutil.copytree(FIXTURES / "clean", checkout)
        if change is not None:
            change(checkout)
        async with gate:
            return name, await grade_checkout(checkout, rubrics[rubric_path], frontend_settings)

    async def every() -> dict[str, GradeResult]:
        return dict(await asyncio.gather(*(one(name) for name in VARIANTS)))

    return asyncio.run(every())


def _checks(result: GradeResult) -> dict[str, CheckGrade]:
    return {check.id: check for check in result.checks}


def test_clean__full_marks_from_vitest_and_eslint(graded: dict[str, GradeResult]) -> None:
    result = graded["clean"]
    assert (result.score, result.grade) == (100, "A"), [check.summary for check in result.checks]
    assert _checks(result)["tests"].summary == "4 of 4 tests passed"
    assert _checks(result)["coverage"].summary.startswith("coverage 100.0 %")


def test_failing__a_failed_test_and_a_lint_error_cost_their_points(graded: dict[str, GradeResult]) -> None:
    checks = _checks(graded["failing"])
    assert (checks["tests"].points, checks["tests"].summary) == (37.5, "3 of 4 tests passed")
    assert (checks["lint"].points, checks["lint"].summary) == (0, "the command failed (exit status 1)")
    assert checks["lint"].remediation[0].url.endswith("#fe4")
    failed = [case for case in graded["failing"].report.commands[1].files[0].tests if case.outcome == "failed"]
    assert len(failed) == 1
    assert "expected 11 to be 12" in failed[0].message


def test_forged__committed_results_count_for_nothing(graded: dict[str, GradeResult]) -> None:
    checks = _checks(graded["forged"])
    assert checks["tests"].points < 50
    assert "of 50" not in checks["tests"].summary
    assert checks["coverage"].points < 30


def test_own_lint_config__the_rubrics_configuration_decides(graded: dict[str, GradeResult]) -> None:
    assert _checks(graded["own_lint_config"])["lint"].points == 0


def test_endless__the_command_is_stopped_at_its_limit_and_the_run_goes_on(graded: dict[str, GradeResult]) -> None:
    result = graded["endless"]
    step = result.report.step("command:tests")
    assert step is not None
    assert step.status is StepStatus.TIMEOUT
    checks = _checks(result)
    assert (checks["tests"].points, checks["coverage"].points) == (0, 0)
    assert checks["tests"].summary.startswith("timeout")
    assert checks["lint"].points == 20  # the step before it ran as usual


def test_flood__output_is_capped_and_the_push_is_graded(graded: dict[str, GradeResult]) -> None:
    result = graded["flood"]
    step = result.report.step("command:tests")
    assert step is not None
    assert step.truncated
    assert any("command:tests output" in item for item in result.report.truncated)
    assert _checks(result)["tests"].summary == "4 of 4 tests passed"


def test_coverage_hint__coverage_withheld_for_review_tests_and_lint_credited(graded: dict[str, GradeResult]) -> None:
    checks = _checks(graded["coverage_hint"])
    assert checks["coverage"].needs_review
    assert checks["coverage"].points == 0
    assert (checks["tests"].points, checks["lint"].points) == (50, 20)
