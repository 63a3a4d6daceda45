"""The tamper scan flags generic forging tricks in a submission, and nothing in an honest one."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.hidden_names import hidden_test_names
from grader.grading.tamper import CHECKS_AT_RISK, MAX_FILE_BYTES, scan_checkout, scan_source
from grader.texts import ENGLISH, RUSSIAN
from tests.runner.submissions import make_submission
from tests.support.threads import errors_in_threads


def kinds(source: str, file: str = "backend/tests/test_x.py") -> list[tuple[int, str]]:
    return [(item.line, item.kind) for item in scan_source(file, source.encode())]


@pytest.mark.parametrize(("source", "expected"), [
    ("import coverage\n", [(1, "coverage_api")]),
    ("from coverage.data import CoverageData\n", [(1, "coverage_api")]),
    ("from _pytest.reports import TestReport\n", [(1, "pytest_internals")]),
    ("def pytest_runtest_makereport(item, call):\n    pass\n", [(1, "pytest_hook")]),
    ("async def pytest_collection_modifyitems(items):\n    pass\n", [(1, "pytest_hook")]),
    ("X = '<testsuite><testcase name=\"a\"/></testsuite>'\n", [(1, "junit_writer")]),
    ("import os\n\n\ndef test_x():\n    os._exit(0)\n", [(5, "process_exit")]),
    ("from os import _exit\n", [(1, "process_exit")]),
    ("import sys\nsys.modules['app'] = None\n", [(2, "module_surgery")]),
    ("import sys\ndel sys.modules['app']\n", [(2, "module_surgery")]),
    ("import sys\nsys.modules.pop('app')\n", [(2, "module_surgery")]),
    ("import sys\n\n\ndef test_x(monkeypatch):\n    monkeypatch.setitem(sys.modules, 'a', 1)\n",
     [(5, "module_surgery")]),
    ("import builtins\n", [(1, "builtins_surgery")]),
    ("__builtins__['open'] = None\n", [(1, "builtins_surgery")]),
    ("exec('x = 1')\n", [(1, "dynamic_code")]),
    ("import ctypes\n", [(1, "native_code")]),
    ("PATH = '/grader/hidden/test_checklist.py'\n", [(1, "grader_paths")]),
    ("import os\nfd = int(os.environ['GRADER_RESULTS_FD'])\n", [(2, "grader_paths")]),
])
def test_scan_source__flags_each_generic_trick(source: str, expected: list[tuple[int, str]]) -> None:
    assert kinds(source) == expected


@pytest.mark.parametrize("source", [
    "import re\nPATTERN = re.compile('x')\n",
    "import sys\nif 'app' in sys.modules:\n    print(sys.modules['app'])\n",
    "import os\nURL = os.environ.get('DATABASE_URL', 'sqlite+aiosqlite:///./app.db')\n",
    "def test_x(monkeypatch, tmp_path):\n    monkeypatch.chdir(tmp_path)\n",
    "def broken(:\n",
])
def test_scan_source__ordinary_code_is_not_flagged(source: str) -> None:
    assert kinds(source) == []


def test_scan_source__startup_hooks_and_oversized_files_are_findings() -> None:
    assert kinds("", file="backend/sitecustomize.py") == [(1, "startup_hook")]
    assert kinds("x = 1\n" * (MAX_FILE_BYTES // 5)) == [(1, "unscannable")]
    assert kinds("x = " + "(" * 200 + "1" + ")" * 200 + "\n") == []


def test_scan_source__findings_say_which_checks_they_put_at_risk() -> None:
    [exit_call] = scan_source("t.py", b"import os\nos._exit(0)\n")
    [path] = scan_source("t.py", b"X = '/grader/public/x'\n")
    assert exit_call.checks == ["tests", "coverage"]
    assert path.checks == ["tests", "coverage", "hidden_tests", "migrations"]
    assert exit_call.detail == "ends the process without pytest's session end (os._exit)"


def test_scan_checkout__the_clean_fixture_has_no_findings(tmp_path: Path) -> None:
    assert scan_checkout(make_submission("clean", tmp_path)) == []


def test_scan_checkout__pth_files_count_and_skipped_folders_do_not(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / "backend" / "evil.pth").write_text("import os\n")
    (checkout / ".venv").mkdir()
    (checkout / ".venv" / "coverage_user.py").write_text("import coverage\n")
    assert [(item.file, item.kind) for item in scan_checkout(checkout)] == [("backend/evil.pth", "startup_hook")]


def test_every_kind_of_finding_is_worded_in_both_languages_and_names_its_checks() -> None:
    assert set(RUSSIAN.tamper_kinds) == set(ENGLISH.tamper_kinds) == set(CHECKS_AT_RISK)
    assert all(checks for checks in CHECKS_AT_RISK.values())


@pytest.mark.parametrize(("source", "lines"), [
    ("/* v8 ignore next */\nif (x) {}\n", [1]),
    ("const a = 1;\n/* istanbul ignore else */\n// c8 ignore start\n", [2, 3]),
    ("/*  @v8 ignore start */", [1]),
    ("// a comment about v8 and ignoring things\nconst ignore = 1;\n", []),
])
def test_scan_script__coverage_hints_in_front_end_sources(tmp_path: Path, source: str, lines: list[int]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "cart.ts").write_text(source)
    found = scan_checkout(tmp_path)
    assert [(item.file, item.line, item.kind) for item in found] == [("src/cart.ts", line, "coverage_hint")
                                                                     for line in lines]
    assert all(item.checks == ["command:coverage_summary"] for item in found)


def test_scan_checkout__threads_scanning_while_hidden_test_names_are_read_all_succeed(tmp_path: Path) -> None:
    """The worker scans checkouts in threads while the service parses rubrics' hidden tests; on CPython
    3.11 two parses at once used to fail with `SystemError` (gh-106905)."""
    (tmp_path / "test_app.py").write_bytes(Path(__file__).read_bytes())

    def work(index: int) -> object:
        return scan_checkout(tmp_path) if index % 2 else hidden_test_names(tmp_path)

    assert errors_in_threads(work) == []
