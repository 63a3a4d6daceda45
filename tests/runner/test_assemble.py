"""Harness events into a report; an unexplained end of the container is the infrastructure's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from grader.grading.report import InfrastructureError, StepStatus
from grader.runner.assemble import FORGED, assemble
from grader.runner.sandbox import ContainerRun

JUNIT_PASS = ('<testsuites><testsuite><testcase classname="t" name="test_a"/>'
              '<testcase classname="t" name="test_b[1]"/></testsuite></testsuites>')


def _line(event: str, **fields: Any) -> str:
    return json.dumps({"event": event, **fields})


def _result(step: str, **fields: Any) -> str:
    return _line("result", step=step, outcome=fields.pop("outcome", "exited"), exit_code=fields.pop("exit_code", 0),
                 duration_seconds=1.5, output_tail="tail", truncated=fields.pop("truncated", False), **fields)


def _run(*lines: str, done: bool = True, **fields: Any) -> ContainerRun:
    return ContainerRun(lines=[_line("hello", tool_versions={"ruff": "1"}), *lines,
                               *([_line("done", duration_seconds=3)] if done else [])], exit_code=0, **fields)


def test_assemble__all_steps_from_their_artifacts() -> None:
    run = _run(
        _result("lint", artifacts={"ruff.json": "[]"}),
        _result("tests", artifacts={"junit.xml": JUNIT_PASS, "coverage.json": '{"totals": {"percent_covered": 90}}'}),
        _result("hidden_tests", expected_tests=["test_a", "test_b"], artifacts={"junit.xml": JUNIT_PASS}),
        _result("migrations", migrations=[{"name": n, "ok": True} for n in
                                          ("upgrade", "downgrade", "upgrade_again", "drift", "single_head")]),
    )
    report = assemble(run, 1000)
    assert [(s.id, s.status) for s in report.steps] == [
        ("lint", StepStatus.OK), ("tests", StepStatus.OK), ("hidden_tests", StepStatus.OK),
        ("migrations", StepStatus.OK)]
    assert report.tool_versions == {"ruff": "1"}
    assert report.coverage is not None
    assert report.coverage.percent == 90
    assert len(report.hidden_tests) == 2


def test_assemble__hidden_results_naming_other_tests_are_not_counted() -> None:
    run = _run(_result("hidden_tests", expected_tests=["test_a", "test_b", "test_c"],
                       artifacts={"junit.xml": JUNIT_PASS}), done=True)
    report = assemble(run, 1000, steps=("hidden_tests",))
    step = report.step("hidden_tests")
    assert step is not None
    assert step.status is StepStatus.FAILED
    assert step.summary == FORGED
    assert {case.outcome for case in report.hidden_tests} == {"failed"}


def test_assemble__hidden_results_disagreeing_with_the_exit_code_are_not_counted() -> None:
    run = _run(_result("hidden_tests", exit_code=1, expected_tests=["test_a", "test_b"],
                       artifacts={"junit.xml": JUNIT_PASS}))
    assert assemble(run, 1000, steps=("hidden_tests",)).hidden_tests[0].message == FORGED


def test_assemble__timeout_and_oom_are_student_results() -> None:
    run = _run(_result("tests", outcome="timeout", exit_code=-9, artifacts={}),
               _result("hidden_tests", outcome="oom", exit_code=-9, artifacts={}))
    report = assemble(run, 1000, steps=("tests", "hidden_tests"))
    assert [(s.id, s.status) for s in report.steps] == [("tests", StepStatus.TIMEOUT),
                                                      ("hidden_tests", StepStatus.OOM)]


def test_assemble__truncated_output_is_marked() -> None:
    run = _run(_result("lint", truncated=True, artifacts={"ruff.json": "[]"}))
    report = assemble(run, 1_000_000, steps=("lint",))
    assert report.truncated == ["lint output after 1,000,000 bytes"]
    assert report.steps[0].truncated


def test_assemble__no_alembic_is_not_run() -> None:
    run = _run(_line("result", step="migrations", outcome="not_run", summary="no Alembic configuration found"))
    step = assemble(run, 1000, steps=("migrations",)).steps[0]
    assert (step.status, step.summary) == (StepStatus.NOT_RUN, "no Alembic configuration found")


def test_assemble__run_cut_by_the_host_clock_times_out_the_rest() -> None:
    run = _run(_result("lint", artifacts={"ruff.json": "[]"}), done=False, timed_out=True)
    report = assemble(run, 1000, steps=("lint", "tests"))
    assert [(s.id, s.status) for s in report.steps] == [("lint", StepStatus.OK), ("tests", StepStatus.TIMEOUT)]


def test_assemble__container_gone_without_reason_is_infrastructure() -> None:
    run = ContainerRun(lines=[], exit_code=137, stderr_tail="killed\n")
    with pytest.raises(InfrastructureError, match=r"ended unexpectedly \(exit 137\): killed"):
        assemble(run, 1000)


def test_assemble__harness_failure_to_start_postgres_is_infrastructure() -> None:
    run = _run(_line("result", step="migrations", outcome="error", summary="PostgreSQL did not start"))
    with pytest.raises(InfrastructureError, match="PostgreSQL did not start"):
        assemble(run, 1000, steps=("migrations",))


def test_assemble__rejected_archive_fails_every_step_with_the_reason() -> None:
    run = _run(_line("rejected", reason="'x' is a link"), done=False)
    report = assemble(run, 1000)
    assert {s.status for s in report.steps} == {StepStatus.FAILED}
    assert report.steps[0].summary == "submission rejected: 'x' is a link"


def test_assemble__lint_findings_are_capped_and_the_cut_marked() -> None:
    finding = {"code": "E501", "message": "long", "filename": "/work/src/a.py", "location": {"row": 1, "column": 1}}
    run = _run(_result("lint", artifacts={"ruff.json": json.dumps([finding] * 600)}))
    report = assemble(run, 1000, steps=("lint",))
    assert len(report.lint) == 500
    assert report.truncated == ["lint findings after the first 500 of 600"]
    assert report.steps[0].summary == "600 findings"


COLLECTION_ERROR_JUNIT = ('<testsuites><testsuite><testcase classname="" name="tests.test_api">'
                          '<error message="collection failure">trace</error></testcase></testsuite></testsuites>')


@pytest.mark.parametrize("fields", [
    {"exit_code": 4, "artifacts": {"junit.xml": None}},  # conftest import error, unknown option
    {"exit_code": 2, "artifacts": {"junit.xml": COLLECTION_ERROR_JUNIT,  # errors while collecting
                                   "coverage.json": '{"totals": {"percent_covered": 12}}'}},
])
def test_assemble__pytest_stopped_before_any_test_is_tests_could_not_start(fields: dict[str, Any]) -> None:
    startup = "lots of output\nE   ModuleNotFoundError: No module named 'dotenv'\n"
    report = assemble(_run(_result("tests", startup_output=startup, **fields)), 1000, steps=("tests",))

    step = report.step("tests")
    assert step is not None
    assert step.status is StepStatus.FAILED
    assert step.summary == "tests could not start: ModuleNotFoundError: No module named 'dotenv'"
    assert step.error_lines[0] == "ModuleNotFoundError: No module named 'dotenv'"
    assert report.tests == []
    assert report.coverage is None  # measured while importing a failing module, not while testing


def test_assemble__no_tests_collected_is_still_no_tests() -> None:
    empty = "<testsuites><testsuite></testsuite></testsuites>"
    artifacts = {"junit.xml": empty, "coverage.json": '{"totals": {"percent_covered": 60}}'}
    report = assemble(_run(_result("tests", exit_code=5, artifacts=artifacts)), 1000, steps=("tests",))
    step = report.step("tests")
    assert step is not None
    assert (step.summary, step.error_lines) == ("no tests found", [])
    assert report.coverage is None  # importing conftest files is not test coverage
