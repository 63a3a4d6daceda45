"""The harness' events and the container's end into a `Report`: what ran, what came out, how long.

A container that ended without the harness saying `done` is either the student's doing (the run's
wall clock, memory) and becomes step results, or the infrastructure's and raises
`InfrastructureError` so the queue retries it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.grading.report import (
    CommandRun,
    InfrastructureError,
    MigrationStep,
    Report,
    StepResult,
    StepStatus,
    TestCase,
)
from grader.runner.command_results import parse_command_file
from grader.runner.harness.protocol import (
    COMMAND_PREFIX,
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
from grader.runner.parse import TestRun, parse_results, parse_ruff, startup_error_lines
from grader.runner.sandbox import ContainerRun

OUTCOME_STATUS = {OUTCOME_TIMEOUT: StepStatus.TIMEOUT, OUTCOME_OOM: StepStatus.OOM, OUTCOME_NOT_RUN: StepStatus.NOT_RUN}
LINT_FINDINGS_KEPT = 500  # enough to grade and annotate; a generated file can have tens of thousands
FINISHED_EXIT_STATUSES = (0, 1, 5)  # pytest ran its tests to the end: all passed, some failed, none found
NOT_FINISHED = "tests did not finish: pytest did not reach the end of its session"
NOT_REPORTED = "no result was reported for this hidden test"
SKIPPED = "skipped: a hidden test that does not run counts as failed"
UNREADABLE = "the step's report could not be read"
TESTS_NOT_STARTED = "tests could not start"
PYTEST_STOPPED = (2, 3, 4)  # interrupted by collection errors, internal error, usage error


@dataclass
class _Assembly:
    report: Report
    output_limit: int
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    command_files: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    done: bool = False
    rejected: str = ""


def rejected_report(reason: str, steps: tuple[str, ...] = STEP_IDS) -> Report:
    """A submission that was not run at all: every step failed with the same reason."""
    return Report(steps=[StepResult(id=step, status=StepStatus.FAILED, summary=reason) for step in steps],
                  rejected=reason)


def assemble(run: ContainerRun, output_limit: int, steps: tuple[str, ...] = STEP_IDS,
             command_files: Mapping[str, Mapping[str, str]] | None = None) -> Report:
    """`command_files`: each command step's results files and how each is read (see `Rubric.command_files`)."""
    work = _Assembly(report=Report(), output_limit=output_limit, command_files=command_files or {})
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
        versions = event.get("tool_versions")
        work.report.tool_versions = {str(k)[:40]: str(v)[:40] for k, v in list(versions.items())[:40]} \
            if isinstance(versions, dict) else {}
    elif kind == EVENT_RESULT and isinstance(event.get("step"), str):
        work.results[event["step"]] = event
    elif kind == EVENT_REJECTED:
        work.rejected = f"submission rejected: {str(event.get('reason', 'unreadable archive'))[:500]}"
    elif kind == EVENT_DONE:
        work.done = True


def _add_step(work: _Assembly, step: str, run: ContainerRun) -> None:
    event = work.results.get(step)
    if event is None:
        work.report.steps.append(_missing_step(step, run, work.done))
        return
    if event.get("outcome") == OUTCOME_ERROR:
        raise InfrastructureError(f"{step}: {event.get('summary', 'the harness could not run the step')}")
    status, summary = _builder(work, step)(work.report, event)
    truncated = bool(event.get("truncated"))
    if truncated:
        work.report.truncated.append(f"{step} output after {work.output_limit:,} bytes")
    output = str(event.get("output_tail", ""))
    startup = str(event.get("startup_output") or output)
    error_lines = startup_error_lines(startup) if summary.startswith(TESTS_NOT_STARTED) else []
    if error_lines:
        summary = f"{TESTS_NOT_STARTED}: {error_lines[0]}"
    output = str(event.get("output_tail", ""))[-3000:]
    error_lines = startup_error_lines(str(event.get("startup_output") or output)) \
        if summary.startswith(TESTS_NOT_STARTED) else []
    if error_lines:
        summary = f"{TESTS_NOT_STARTED}: {error_lines[0]}"
    work.report.steps.append(StepResult(
        id=step, status=status, summary=summary[:500], duration_seconds=_seconds(event.get("duration_seconds")),
        truncated=truncated, output_tail=output, error_lines=error_lines))


def _missing_step(step: str, run: ContainerRun, done: bool) -> StepResult:
    """A step the harness never reported: its line was unreadable, or the run was cut short."""
    if done:
        return StepResult(id=step, status=StepStatus.FAILED, summary=UNREADABLE)
    status = StepStatus.OOM if run.oom_killed and not run.timed_out else StepStatus.TIMEOUT
    reason = "out of memory" if status is StepStatus.OOM else "the run's time limit was reached"
    return StepResult(id=step, status=status, summary=f"not finished: {reason}")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _limit_status(event: dict[str, Any]) -> tuple[StepStatus, str] | None:
    """Timeout, OOM or not run, with its summary; None when the step ran to its end."""
    status = OUTCOME_STATUS.get(str(event.get("outcome")))
    if status is None:
        return None
    default = {StepStatus.TIMEOUT: "stopped at the time limit", StepStatus.OOM: "stopped: out of memory",
               StepStatus.NOT_RUN: "not run"}[status]
    return status, str(event.get("summary") or default)


def _artifact(event: dict[str, Any], name: str) -> str | None:
    artifacts = event.get("artifacts")
    value = artifacts.get(name) if isinstance(artifacts, dict) else None
    return value if isinstance(value, str) else None


def _why_missing(event: dict[str, Any], default: str) -> str:
    """Why a step's results are missing: the harness' reason when it gave one."""
    reason = event.get("dropped") or event.get("summary")
    return f"{default} ({reason})" if isinstance(reason, str) and reason else default


def _lint(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    findings = parse_ruff(_artifact(event, "ruff.json"))
    if findings is not None:
        report.lint = findings[:LINT_FINDINGS_KEPT]
        if len(findings) > LINT_FINDINGS_KEPT:
            report.truncated.append(f"lint findings after the first {LINT_FINDINGS_KEPT} of {len(findings)}")
        return (StepStatus.FAILED if findings else StepStatus.OK), f"{len(findings)} findings"
    return _limit_status(event) or (StepStatus.FAILED, _why_missing(event, "ruff produced no report"))


def _tests(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    """Counted only when pytest reached its session end; anything else is "did not finish"."""
    limited = _limit_status(event)
    if limited is not None:
        return limited
    run = parse_results(_artifact(event, "results.json"))
    if _not_started(event, run):
        return StepStatus.FAILED, TESTS_NOT_STARTED
    if run is None:
        return StepStatus.INCOMPLETE, _why_missing(event, NOT_FINISHED)
    report.tests, report.coverage = run.cases, run.coverage
    if run.exit_status not in FINISHED_EXIT_STATUSES:
        report.coverage = None
        return StepStatus.INCOMPLETE, f"tests did not finish: pytest stopped early (exit status {run.exit_status})"
    if not run.cases:
        report.coverage = None  # no test ran: what was measured is the import of conftest files
    return _verdict(run.cases)


def _not_started(event: dict[str, Any], run: TestRun | None) -> bool:
    """pytest stopped before running any test (a conftest or test module that does not import, an
    option it does not know): nothing is counted, and the student is shown why."""
    if not event.get("startup_output"):
        return False
    if run is None:
        return event.get("exit_code") in PYTEST_STOPPED
    return run.exit_status in PYTEST_STOPPED and not run.cases


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
    run = parse_results(_artifact(event, "results.json"))
    if run is None:
        return StepStatus.INCOMPLETE, _why_missing(event, "no hidden test results: the test run did not finish")
    expected = [str(name) for name in event.get("expected_tests") or [] if isinstance(name, str)]
    report.hidden_tests = hidden_verdicts(expected, run)
    passed = sum(case.outcome == "passed" for case in report.hidden_tests)
    status = StepStatus.OK if expected and passed == len(expected) else StepStatus.FAILED
    return status, f"{passed} of {len(expected)} hidden checks passed"


def hidden_verdicts(expected: list[str], run: TestRun) -> list[TestCase]:
    """One verdict per expected hidden test, known before the run: passed only if every case of it
    ran and passed; skipped, errored or unreported counts as failed; results of any other name are
    not counted."""
    by_name: dict[str, list[TestCase]] = {}
    for case in run.cases:
        by_name.setdefault(case.id.rsplit("::", 1)[-1].split("[", 1)[0], []).append(case)
    verdicts = []
    for name in expected:
        cases = by_name.get(name, [])
        bad = next((case for case in cases if case.outcome != "passed"), None)
        if not cases:
            verdicts.append(TestCase(id=name, outcome="failed", message=NOT_REPORTED))
        elif bad is None:
            verdicts.append(TestCase(id=name, outcome="passed"))
        else:
            message = SKIPPED if bad.outcome == "skipped" else bad.message
            verdicts.append(TestCase(id=name, outcome="failed" if bad.outcome != "error" else "error",
                                     message=message))
    return verdicts


def _migrations(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
    items = _list(event.get("migrations"))
    steps = [MigrationStep(name=str(item.get("name"))[:40], ok=item.get("ok") is True,
                           duration_seconds=_seconds(item.get("duration_seconds")),
                           error_lines=[str(line)[:300] for line in _list(item.get("error_lines"))][:10])
             for item in items[:10] if isinstance(item, dict)]
    report.migrations = steps
    if not steps:
        return _limit_status(event) or (StepStatus.FAILED, "the migration test did not run")
    failed = [step.name for step in steps if not step.ok]
    if not failed:
        return StepStatus.OK, f"{len(steps)} of {len(steps)} migration steps passed"
    limited = _limit_status(event)
    return limited or (StepStatus.FAILED, f"failed: {', '.join(failed)}")


def _command(step: str, files: Mapping[str, str]) -> Builder:
    """A command step: its exit status decides the step; its results files are parsed for the checks."""

    def build(report: Report, event: dict[str, Any]) -> tuple[StepStatus, str]:
        exit_code = event.get("exit_code")
        code = exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None
        parsed = [parse_command_file(name, kind, _artifact(event, name)) for name, kind in files.items()]
        report.commands.append(CommandRun(step=step, exit_code=code, files=parsed))
        limited = _limit_status(event)
        if limited is not None:
            return limited
        return (StepStatus.OK if code == 0 else StepStatus.FAILED), _why_missing(event, f"exit status {code}")

    return build


def _builder(work: _Assembly, step: str) -> Builder:
    if step.startswith(COMMAND_PREFIX):
        return _command(step, work.command_files.get(step, {}))
    return BUILDERS[step]


Builder = Callable[[Report, dict[str, Any]], tuple[StepStatus, str]]
BUILDERS: dict[str, Builder] = {"lint": _lint, "tests": _tests, "hidden_tests": _hidden_tests,
                                "migrations": _migrations}
