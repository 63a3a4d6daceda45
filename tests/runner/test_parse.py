"""Tool output into report parts; untrusted input never raises."""

from __future__ import annotations

import json

import pytest

from grader.runner.parse import SYNTAX_ERROR_CODE, parse_coverage, parse_results, parse_ruff, startup_error_lines

RUFF = [
    {"code": "F401", "message": "`os` imported but unused", "filename": "/work/src/backend/app/x.py",
     "location": {"row": 1, "column": 8}, "end_location": {"row": 1, "column": 10},
     "url": "https://docs.astral.sh/ruff/rules/unused-import"},
    {"code": None, "message": "SyntaxError: Expected ')'", "filename": "/work/src/backend/app/y.py",
     "location": {"row": 2, "column": 1}, "end_location": {"row": 2, "column": 2}, "url": None},
]
RESULTS = {"finished": True, "exitstatus": 1, "coverage": None, "tests": [
    {"id": "backend/tests/test_a.py::test_ok", "outcome": "passed", "message": ""},
    {"id": "backend/tests/test_a.py::test_bad", "outcome": "failed", "message": "assert 2 == 3\nmore"},
    {"id": "backend/tests/test_a.py::test_err", "outcome": "error", "message": "fixture broke"},
    {"id": "backend/tests/test_a.py::test_skip", "outcome": "skipped", "message": "not today"},
]}


def test_parse_ruff__paths_relative_and_syntax_errors_named() -> None:
    findings = parse_ruff(json.dumps(RUFF))
    assert findings is not None
    assert [(f.file, f.line, f.column, f.code) for f in findings] == [
        ("backend/app/x.py", 1, 8, "F401"), ("backend/app/y.py", 2, 1, SYNTAX_ERROR_CODE)]
    assert findings[0].url.endswith("unused-import")


def test_parse_ruff__missing_or_malformed_is_none() -> None:
    assert parse_ruff(None) is None
    assert parse_ruff("not json") is None
    assert parse_ruff('{"a": 1}') is None


def test_parse_results__outcomes_and_first_lines_of_messages() -> None:
    run = parse_results(json.dumps(RESULTS))
    assert run is not None
    assert run.exit_status == 1
    assert [(case.id.rsplit("::", 1)[-1], case.outcome, case.message) for case in run.cases] == [
        ("test_ok", "passed", ""), ("test_bad", "failed", "assert 2 == 3\nmore"),
        ("test_err", "error", "fixture broke"), ("test_skip", "skipped", "not today")]


def test_parse_results__a_long_message_keeps_its_first_six_lines() -> None:
    message = "\n".join(f"line {i}" for i in range(20)) + "\n\n"
    run = parse_results(json.dumps({**RESULTS, "tests": [{"id": "t", "outcome": "failed", "message": message}]}))
    assert run is not None
    assert run.cases[0].message.splitlines() == [f"line {i}" for i in range(6)]


def test_parse_results__a_session_that_did_not_finish_is_none() -> None:
    assert parse_results(json.dumps({**RESULTS, "finished": False})) is None
    assert parse_results(json.dumps({"tests": RESULTS["tests"]})) is None
    assert parse_results(None) is None


def test_parse_results__hostile_documents_never_raise_and_are_cut() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    controls = json.dumps({**RESULTS, "tests": [{"id": "\x01" * 10_000, "outcome": "passed", "message": 5}] * 3,
                           "exitstatus": 10**40, "coverage": {"totals": {"percent_covered": "100"}}})
    assert parse_results(deep) is None
    run = parse_results(controls)
    assert run is not None
    assert run.exit_status == -1
    assert run.coverage is None
    assert {len(case.id) for case in run.cases} == {300}
    assert parse_results(json.dumps({**RESULTS, "tests": [{"outcome": "weird"}, 7, None]})).cases == []


def test_parse_coverage__total_and_files() -> None:
    data = {"totals": {"percent_covered": 83.3333},
            "files": {"/work/src/backend/app/a.py": {"summary": {"percent_covered": 50.0}, "missing_lines": [3, 4]}}}
    coverage = parse_coverage(json.dumps(data))
    assert coverage is not None
    assert coverage.percent == 83.33
    assert [(f.path, f.percent, f.missing_lines) for f in coverage.files] == [("backend/app/a.py", 50.0, [3, 4])]


def test_parse_coverage__percentages_outside_0_to_100_are_refused() -> None:
    assert parse_coverage(json.dumps({"totals": {"percent_covered": 150}})) is None
    assert parse_coverage(json.dumps({"totals": {"percent_covered": True}})) is None


def test_parse_coverage__malformed_is_none() -> None:
    assert parse_coverage('{"totals": {}}') is None
    assert parse_coverage(None) is None


CONFTEST_IMPORT_ERROR = """ImportError while loading conftest '/work/src/tests/conftest.py'.
tests/conftest.py:3: in <module>
    from app.main import app
/work/src/app/__init__.py:3: in <module>
    from dotenv import load_dotenv
E   ModuleNotFoundError: No module named 'dotenv'
"""
SETTINGS_ERROR = """==================================== ERRORS ====================================
_______________________ ERROR collecting tests/test_api.py _______________________
src/conf/config.py:20: in <module>
    settings = Settings()
E   pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
E   REDIS_URL
E     Field required [type=missing, input_value={}, input_type=dict]
E       For further information visit https://errors.pydantic.dev/2.14/v/missing
=========================== short test summary info ============================
ERROR tests/test_api.py - pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
"""
USAGE_ERROR = """ERROR: usage: python -m pytest [options] [file_or_dir] [file_or_dir] [...]
python -m pytest: error: unrecognized arguments: --env-file=.env.test
  inifile: /work/src/pyproject.toml
  rootdir: /work/src
"""


@pytest.mark.parametrize(("output", "headline"), [
    (CONFTEST_IMPORT_ERROR, "ModuleNotFoundError: No module named 'dotenv'"),
    (SETTINGS_ERROR, "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings REDIS_URL "
                     "Field required [type=missing, input_value={}, input_type=dict]"),
    (USAGE_ERROR, "error: unrecognized arguments: --env-file=.env.test"),
    ("", "pytest stopped before running any test, without a message"),
])
def test_startup_error_lines__the_headline_first_then_the_last_lines(output: str, headline: str) -> None:
    lines = startup_error_lines(output)
    assert lines[0] == headline
    assert all("/work/src/" not in line for line in lines)
    assert not any(line.startswith(("====", "!!!!")) for line in lines)


def test_startup_error_lines__coverage_warnings_are_not_the_error() -> None:
    output = CONFTEST_IMPORT_ERROR + (
        "/opt/venv/lib/python3.11/site-packages/coverage/inorout.py:560: CoverageWarning: Module backend was never "
        "imported. (module-not-imported)\n  self.warn(f\"Module {pkg} was never imported.\", slug=\"x\")\n")
    lines = startup_error_lines(output)
    assert lines[-1] == "E   ModuleNotFoundError: No module named 'dotenv'"
