"""The grader's pytest plugin (`-p grader_results`): each test's outcome and, at the session's end, the
coverage measured in this process, sent as one JSON document through the results pipe
(GRADER_RESULTS_FD) when pytest reaches its own session end, and only then.

The harness copies this file into a root-owned folder; it runs in the process it reports on (the
student's own tests, or the hidden tests), so it trusts nothing about that process beyond pytest's
hooks, keeps every string short and never raises into pytest.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from typing import Any

MESSAGE_CHARS = 1200
MESSAGE_LINES = 6  # an assertion's first lines (pytest's "where" explanations), as the comment shows them
NODEID_CHARS = 300
MAX_TESTS = 5000
CHANNEL_ENV = "GRADER_RESULTS_FD"

_outcomes: dict[str, dict[str, str]] = {}


def _message(report: Any) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    text = getattr(crash, "message", None) or str(getattr(report, "longrepr", "") or "")
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(line[:300] for line in lines[:MESSAGE_LINES])[:MESSAGE_CHARS]


def _outcome(report: Any) -> str:
    if report.outcome == "failed":
        return "failed" if report.when == "call" else "error"
    return "skipped" if report.outcome == "skipped" else "passed"


def pytest_runtest_logreport(report: Any) -> None:
    """The worst outcome of a test's phases wins: an error in teardown is not a pass."""
    nodeid = str(report.nodeid)[:NODEID_CHARS]
    if nodeid not in _outcomes and len(_outcomes) >= MAX_TESTS:
        return
    outcome, known = _outcome(report), _outcomes.get(nodeid)
    rank = {"passed": 0, "skipped": 1, "error": 2, "failed": 3}
    if known is None or rank[outcome] > rank[known["outcome"]]:
        _outcomes[nodeid] = {"id": nodeid, "outcome": outcome,
                             "message": _message(report) if outcome != "passed" else ""}


def _coverage() -> Any:
    """coverage.py's JSON report of this process' measurement, or None when not under coverage."""
    try:
        import coverage
    except ImportError:
        return None
    current = coverage.Coverage.current()
    if current is None:
        return None
    # The report is written to memory, not to disk: a test that filled the disk still gets its coverage.
    fd = os.memfd_create("grader-coverage")
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # not "Wrote JSON report to ..." in the test output
            current.json_report(outfile=f"/proc/self/fd/{fd}", ignore_errors=True)
        with open(fd, encoding="utf-8", closefd=False) as handle:
            handle.seek(0)
            return json.load(handle)
    finally:
        os.close(fd)


def _send(document: dict[str, Any]) -> None:
    fd = int(os.environ.get(CHANNEL_ENV, "-1"))
    data = json.dumps(document).encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data):]
        os.close(fd)


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    document: dict[str, Any] = {"finished": True, "exitstatus": int(exitstatus),
                                "tests": list(_outcomes.values()), "coverage": None}
    try:
        document["coverage"] = _coverage()
    except Exception as exc:  # a coverage failure is reported, the outcomes still are
        document["coverage_error"] = f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]
    _send(document)
