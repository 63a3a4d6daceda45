"""The results files of `command` checks are parsed as untrusted input: bounded, no DTDs, no exceptions."""

from __future__ import annotations

import json

import pytest

from grader.runner.assemble import assemble
from grader.runner.command_results import MALFORMED, MISSING, parse_command_file, parse_coverage_summary, parse_junit
from grader.runner.harness.protocol import EVENT_DONE, EVENT_RESULT
from grader.runner.sandbox import ContainerRun

VITEST_JUNIT = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="1" errors="0" time="0.01">
  <testsuite name="src/cart.test.js" tests="4" failures="1" errors="0" skipped="1" time="0.01">
    <testcase classname="src/cart.test.js" name="cart &gt; adds a new line" time="0.002"></testcase>
    <testcase classname="src/cart.test.js" name="cart &gt; totals" time="0.001">
      <failure message="expected 10 to be 11 // Object.is equality" type="AssertionError">
AssertionError: expected 10 to be 11 // Object.is equality
- Expected
+ Received
- 11
+ 10
 ❯ src/cart.test.js:24:5
      </failure>
    </testcase>
    <testcase classname="src/cart.test.js" name="cart &gt; skipped" time="0"><skipped/></testcase>
    <testcase classname="src/cart.test.js" name="cart &gt; broken" time="0"><error message="boom"/></testcase>
  </testsuite>
</testsuites>"""


def test_parse_junit__each_case_with_its_outcome_and_message() -> None:
    cases = parse_junit(VITEST_JUNIT)
    assert cases is not None
    assert [(case.id, case.outcome) for case in cases] == [
        ("src/cart.test.js::cart > adds a new line", "passed"), ("src/cart.test.js::cart > totals", "failed"),
        ("src/cart.test.js::cart > skipped", "skipped"), ("src/cart.test.js::cart > broken", "error")]
    assert cases[1].message == "expected 10 to be 11 // Object.is equality"


@pytest.mark.parametrize("text", [
    "", "not xml", "<html><testcase name='x'/></html>", "<testsuites><testcase",
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    "<testsuites><testcase name='&lol2;'/></testsuites>",
])
def test_parse_junit__anything_else_is_not_junit(text: str) -> None:
    assert parse_junit(text) is None
    assert parse_command_file("r.xml", "junit", text).error == MALFORMED


def test_parse_junit__deep_nesting_and_many_cases_stay_bounded() -> None:
    deep = "<testsuites>" + "<x>" * 50_000 + "</x>" * 50_000 + "</testsuites>"
    assert parse_junit(deep) == []
    many = "<testsuites>" + "<testcase name='t'/>" * 20_000 + "</testsuites>"
    cases = parse_junit(many)
    assert cases is not None
    assert len(cases) == 5000


def test_parse_coverage_summary__total_and_files_by_line_percent() -> None:
    summary = {"total": {"lines": {"total": 10, "covered": 9, "skipped": 0, "pct": 90}},
               "/work/src/src/cart.js": {"lines": {"total": 10, "covered": 9, "skipped": 0, "pct": 90}}}
    coverage = parse_coverage_summary(json.dumps(summary))
    assert coverage is not None
    assert coverage.percent == 90
    assert [(item.path, item.percent) for item in coverage.files] == [("src/cart.js", 90)]


@pytest.mark.parametrize("text", ["[]", "{}", '{"total": {"lines": {"pct": "Unknown"}}}',
                                  '{"total": {"lines": {"pct": 250}}}', '{"total": {"lines": {"pct": true}}}',
                                  "[" * 100_000])
def test_parse_coverage_summary__anything_else_is_malformed(text: str) -> None:
    assert parse_command_file("c.json", "coverage_summary", text).error == MALFORMED


def test_parse_command_file__a_file_not_written_is_missing() -> None:
    assert parse_command_file("r.xml", "junit", None).error == MISSING


def _event(step: str, **fields: object) -> str:
    return json.dumps({"event": EVENT_RESULT, "step": step, "outcome": "exited", "duration_seconds": 1.0,
                       **fields})


def test_assemble__command_step_keeps_exit_status_and_parses_each_file() -> None:
    lines = [_event("command:tests", exit_code=1, artifacts={"reports/junit.xml": VITEST_JUNIT}),
             _event("command:lint", exit_code=0), json.dumps({"event": EVENT_DONE})]
    run = ContainerRun(exit_code=0, lines=lines, stderr_tail="", timed_out=False, oom_killed=False)
    report = assemble(run, 1000, ("command:lint", "command:tests"),
                      {"command:tests": {"reports/junit.xml": "junit", "coverage/coverage-summary.json":
                                         "coverage_summary"}})
    tests = report.command("command:tests")
    assert tests is not None
    assert tests.exit_code == 1
    junit, summary = tests.files
    assert len(junit.tests) == 4
    assert summary.error == MISSING
    assert [(step.id, step.status.value) for step in report.steps] == [("command:lint", "ok"),
                                                                        ("command:tests", "failed")]


def test_assemble__a_command_stopped_by_its_limit_is_a_timeout() -> None:
    lines = [json.dumps({"event": EVENT_RESULT, "step": "command:lint", "outcome": "timeout", "exit_code": -9}),
             json.dumps({"event": EVENT_DONE})]
    run = ContainerRun(exit_code=0, lines=lines, stderr_tail="", timed_out=False, oom_killed=False)
    report = assemble(run, 1000, ("command:lint",), {"command:lint": {}})
    step = report.step("command:lint")
    assert step is not None
    assert step.status.value == "timeout"
