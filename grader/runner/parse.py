"""Machine-readable tool output into report parts: ruff JSON, JUnit XML, coverage JSON.

Everything parsed here was written inside the sandbox, so it is untrusted: malformed input is a
finding about the submission ("no test results"), never an exception, and XML with a DOCTYPE
(entity tricks) is refused.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # DOCTYPE/ENTITY are refused before parsing
from typing import Any

from grader.grading.report import Coverage, FileCoverage, LintFinding, TestCase
from grader.runner.harness.protocol import SUBMISSION_DIR

SYNTAX_ERROR_CODE = "syntax-error"


def relative_path(path: str) -> str:
    prefix = SUBMISSION_DIR + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def parse_ruff(text: str | None) -> list[LintFinding] | None:
    """ruff's `--output-format json`; None when it is missing or not ruff's format."""
    try:
        items = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    return [finding for item in items if (finding := _ruff_finding(item)) is not None]


def _ruff_finding(item: Any) -> LintFinding | None:
    if not isinstance(item, dict):
        return None
    start, end = item.get("location") or {}, item.get("end_location") or {}
    return LintFinding(
        file=relative_path(str(item.get("filename", ""))), line=int(start.get("row") or 0),
        column=int(start.get("column") or 0), code=str(item.get("code") or SYNTAX_ERROR_CODE),
        message=str(item.get("message", "")), url=str(item.get("url") or ""),
        end_line=end.get("row"), end_column=end.get("column"))


def parse_junit(text: str | None) -> list[TestCase] | None:
    """JUnit XML (pytest's xunit2); None when there is no usable file."""
    if not text or "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        return None
    try:
        root = ET.fromstring(text)  # noqa: S314 - see the module docstring
    except ET.ParseError:
        return None
    return [_test_case(case) for case in root.iter("testcase")]


def _test_case(case: ET.Element) -> TestCase:
    classname, name = case.get("classname", ""), case.get("name", "")
    outcome, message = "passed", ""
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
            message = _first_line(child.get("message") or child.text or "")
            break
    try:
        duration = float(case.get("time", "0") or 0)
    except ValueError:
        duration = 0.0
    test_id = f"{classname}::{name}" if classname else name
    return TestCase(id=test_id, outcome=outcome, message=message, duration_seconds=duration)


def _first_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else "")[:limit]


def parse_coverage(text: str | None) -> Coverage | None:
    """coverage.py's JSON report: total percent (branch-aware) and each file's missing lines."""
    try:
        data = json.loads(text or "")
        percent = float(data["totals"]["percent_covered"])
        files = [FileCoverage(path=relative_path(path), percent=float(entry["summary"]["percent_covered"]),
                              missing_lines=[int(line) for line in entry.get("missing_lines", [])])
                 for path, entry in sorted(data.get("files", {}).items())]
    except (ValueError, KeyError, TypeError):
        return None
    return Coverage(percent=round(percent, 2), files=files)


STARTUP_NOISE = re.compile(r"^(=+|!+|_+|-+)( .* (=+|!+|_+|-+))?$"
                           r"|^(Interrupted|short test summary info|ERROR: not found)"
                           r"|CoverageWarning|^self\._?warn\(")


def startup_error_lines(output: str, keep: int = 12) -> list[str]:
    """Why pytest stopped before running a test: the error's headline, then the output's last lines
    (paths inside the sandbox shown relative to the repository)."""
    lines = [line.rstrip().replace(SUBMISSION_DIR + "/", "") for line in output.splitlines()]
    lines = [line for line in lines if line.strip() and not STARTUP_NOISE.search(line.strip())]
    if not lines:
        return ["pytest stopped before running any test, without a message"]
    return [_headline(lines), *lines[-keep:]]


def _headline(lines: list[str]) -> str:
    """The last exception pytest printed (`E   ModuleNotFoundError: ...`) with up to two detail lines
    (a settings class names its missing field there), else a usage error, else the last line."""
    errors = [(index, found.group(1)) for index, line in enumerate(lines)
              if (found := re.match(r"^E\s+(\S.*)$", line))]
    typed = [(index, text) for index, text in errors if re.match(r"^[\w.]+(Error|Exception|Exit)\b", text)]
    if typed:
        index, text = typed[-1]
        details = [detail for position, detail in errors if index < position <= index + 2]
        return " ".join([text, *details])[:300]
    if errors:
        return errors[-1][1][:300]
    usage = [line[line.index("error:"):] for line in lines if "error:" in line]
    return (usage[-1] if usage else lines[-1]).strip()[:300]
