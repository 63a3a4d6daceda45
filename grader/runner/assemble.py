"""The harness' events and the container's end into a `Report`: what ran, what came out, how long.

A container that ended without the harness saying `done` is either the student's doing (the run's
wall clock, memory) and becomes step results, or the infrastructure's and raises
`InfrastructureError` so the queue retries it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.grading.report import InfrastructureError, MigrationStep, Report, StepResult, StepStatus, TestCase
from grader.runner.harness.protocol import (
    EVENT_DONE,
    EVENT_HELLO,
    EVENT_REJECTED,
    EVENT_RESULT,
    OUTCOME_ERROR,
    OUTCOME_NOT_RUN,
    OUTCOME_OOM,
    OUTCOME_TIMEOUT,
    STEP_IDS,
    parse_event,
)
from grader.runner.parse import parse_coverage, parse_junit, parse_ruff, startup_error_lines
from grader.runner.sandbox import ContainerRun

OUTCOME_STATUS = {OUTCOME_TIMEOUT: StepStatus.TIMEOUT, OUTCOME_OOM: StepStatus.OOM, OUTCOME_NOT_RUN: StepStatus.NOT_RUN}
FORGED = "hidden test results do not match the hidden tests that ran; none is counted"
TESTS_NOT_STARTED = "tests could not start"
PYTEST_STOPPED = (2, 3, 4)  # interrupted by collection errors, internal error, usage error
LINT_FINDINGS_KEPT = 500  # enough to grade and annotate; a generated file can have tens of thousands


@dataclass
class _Assembly:
    report: Report
    output_limit: int
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: bool = False
    rejected: str = ""


def rejected_report(reason: str, steps: tuple[str, ...] = STEP_IDS) -> Report:
    """A submission that was not run at all: every step failed with the same reason."""
    return Report(steps=[StepResult(id=step, status=StepStatus.FAILED, summary=reason) for step in steps])


def assemble(run: ContainerRun, output_limit: int, steps: tuple[str, ...] = STEP_IDS) -> Report:
    work = _Assembly(report=Report(), output_limit=output_limit)
    for line in run.lines:
        _apply(work, parse_event(line))
    if work.rejected:
        return rejected_report(work.rejected, steps)
    if not work.done and not (run.timed_out or run.oom_killed):
        raise InfrastructureError(_unexpected_end(run))
    for step in steps:
        _add_step(work, step, run)
    if run.output_capped:
        work.report.truncated.append("the run's output after 64 MB")
    return work.report


def _unexpected_end(run: ContainerRun) -> str:
    lines = [line.strip() for line in run.stderr_tail.splitlines() if line.strip()]
    reason = lines[-1] if lines else "no message"
    return f"the grading container ended unexpectedly (exit {run.exit_code}): {reason}"


def _apply(work: _Assembly, event: dict[str, Any] | None) -> None:
    if event is None:
        return
    kind = event["event"]
    if kind == EVENT_HELLO:
        work.report.tool_versions = {str(k): str(v) for k, v in dict(event.get("tool_versions", {})).items()}
    elif kind == EVENT_RESULT:
        work.results[str(event.get("step"))] = event
    elif kind == EVENT_REJECTED:
        work.rejected = f"submission rejected: {event.get('reason', 'unreadable archive')}"
    elif kind == EVENT_DONE:
        work.done = True


def _add_step(work: _Assembly, step: str, run: ContainerRun) -> None:
    event = work.results.get(step)
    if event is None:
        status = StepStatus.OOM if run.oom_killed and not run.timed_out else StepStatus.TIMEOUT
        reason = "out of memory" if status is StepStatus.OOM else "the run's time limit was reached"
        work.report.steps.append(StepResult(id=step, status=status, summary=f"not finished: {reason}"))
        return
    if event.get("outcome") == OUTCOME_ERROR:
        raise InfrastructureError(f"{step}: {event.get('summary', 'the harness could not run the step')}")
    status, summary = BUILDERS[step](work.report, event)
    truncated = bool(event.get("truncated"))
    if truncated:
        work.report.truncated.append(f"{step} output after {work.output_limit:,} bytes")
    output = str(event.get("output_tail", ""))
    startup = str(event.get("startup_output") or output)
    error_lines = startup_error_lines(startup) if summary.startswith(TESTS_NOT_STARTED) else []
    if error_lines:
        summary = f"{TESTS_NOT_STARTED}: {error_lines[0]}"
    work.report.steps.append(StepResult(
        id=step, status=status, summary=summary, duration_seconds=float(event.get("duration_seconds", 0.0)),
        truncated=truncated, output_tail=output, error_lines=error_lines))


def _limit_status(event: dict[str, Any]) -> tuple[StepStatus, str] | None:
    """Timeout, OOM or not run, with its summary; None when the step ran to its end."""
    status = OUTCOME_STATUS.get(str(event.get("outcome")))
    if status is None:
        return None
    default = {StepStatus.TIMEOUT: "stopped at the time limit", StepStatus.OOM: "stopped: out of memory",
               StepStatus.NOT_RUN: "not run"}[status]
    return status, str(event.get("summary") or default)


def _artifact(event: dict[str, Any], name: str) -> str | None:
    value = (event.get("artifacts") or {}).get(name)
    return value if isinstance(value, str) else None


def _lint(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    findings = parse_ruff(_artifact(event, "ruff.json"))
    if findings is not None:
        report.lint = findings[:LINT_FINDINGS_KEPT]
        if len(findings) > LINT_FINDINGS_KEPT:
            report.truncated.append(f"lint findings after the first {LINT_FINDINGS_KEPT} of {len(findings)}")
        return (StepStatus.FAILED if findings else StepStatus.OK), f"{len(findings)} findings"
    return _limit_status(event) or (StepStatus.FAILED, "ruff produced no report")


def _tests(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    cases = parse_junit(_artifact(event, "junit.xml"))
    report.coverage = parse_coverage(_artifact(event, "coverage.json"))
    limited = _limit_status(event)
    if limited is not None:
        return limited
    if cases is None or (event.get("exit_code") in PYTEST_STOPPED and not _any_test_ran(cases)):
        report.coverage = None  # what was measured is the import of a failing module, not the tests
        return StepStatus.FAILED, TESTS_NOT_STARTED
    if not cases:
        report.coverage = None  # no test ran: what was measured is the import of conftest files
    report.tests = cases
    return _verdict(cases)


def _any_test_ran(cases: list[TestCase]) -> bool:
    """A collection error is a test case with an error and no function name of its own."""
    return any(case.outcome != "error" or "collect" not in case.message.lower() for case in cases)


def _verdict(cases: list[TestCase]) -> tuple[StepStatus, str]:
    passed = sum(case.outcome == "passed" for case in cases)
    broken = sum(case.outcome in ("failed", "error") for case in cases)
    status = StepStatus.OK if cases and not broken else StepStatus.FAILED
    return status, f"{passed} of {len(cases)} tests passed" if cases else "no tests found"


def _hidden_tests(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    limited = _limit_status(event)
    if limited is not None:
        return limited
    cases = parse_junit(_artifact(event, "junit.xml"))
    if cases is None:
        return StepStatus.FAILED, "no hidden test results: the test run did not finish"
    if not _consistent(cases, event):
        report.hidden_tests = [TestCase(id=case.id, outcome="failed", message=FORGED) for case in cases]
        return StepStatus.FAILED, FORGED
    report.hidden_tests = cases
    return _verdict(cases)


def _consistent(cases: list[TestCase], event: dict[str, Any]) -> bool:
    """The JUnit file names exactly the hidden test functions, and agrees with pytest's exit code."""
    expected = set(event.get("expected_tests") or [])
    seen = {case.id.rsplit("::", 1)[-1].split("[", 1)[0] for case in cases}
    all_passed = all(case.outcome in ("passed", "skipped") for case in cases)
    exit_ok = event.get("exit_code") == 0
    return seen == expected and all_passed == exit_ok


def _migrations(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    steps = [MigrationStep(name=str(item.get("name")), ok=bool(item.get("ok")),
                           duration_seconds=float(item.get("duration_seconds", 0.0)),
                           error_lines=[str(line) for line in item.get("error_lines", [])][:10])
             for item in event.get("migrations") or []]
    report.migrations = steps
    if not steps:
        return _limit_status(event) or (StepStatus.FAILED, "the migration test did not run")
    failed = [step.name for step in steps if not step.ok]
    if not failed:
        return StepStatus.OK, f"{len(steps)} of {len(steps)} migration steps passed"
    limited = _limit_status(event)
    return limited or (StepStatus.FAILED, f"failed: {', '.join(failed)}")


BUILDERS = {"lint": _lint, "tests": _tests, "hidden_tests": _hidden_tests, "migrations": _migrations}
