"""The results files of a rubric's `command` check: JUnit XML and Istanbul's coverage summary JSON.

They were written by the student's process, so they are untrusted like everything out of the sandbox:
bounded on the way out, parsed without entities or document types, and anything malformed is a reason
(`malformed`), never an exception.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from grader.grading.report import CommandFile, Coverage, FileCoverage, TestCase
from grader.runner.parse import MAX_FILES, MAX_TESTS, TEXT_CHARS, relative_path

MESSAGE_LINES = 5
MISSING, MALFORMED = "missing", "malformed"  # CommandFile.error; worded for the student by grader.texts


def parse_command_file(name: str, kind: str, text: str | None) -> CommandFile:
    """The file `name`, read as `kind` (`junit` or `coverage_summary`); `text` None: it was not written."""
    if text is None:
        return CommandFile(name=name, error=MISSING)
    if kind == "junit":
        tests = parse_junit(text)
        return CommandFile(name=name, tests=tests) if tests is not None else CommandFile(name=name, error=MALFORMED)
    coverage = parse_coverage_summary(text)
    return CommandFile(name=name, coverage=coverage) if coverage else CommandFile(name=name, error=MALFORMED)


def _xml_root(text: str) -> ET.Element | None:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None
    try:
        return ET.fromstring(text)  # noqa: S314 - bounded input, no DTD (checked above)
    except (ET.ParseError, ValueError, RecursionError):
        return None


def parse_junit(text: str) -> list[TestCase] | None:
    """Every `<testcase>` with its outcome; None when the text is not JUnit XML."""
    root = _xml_root(text)
    if root is None or root.tag not in ("testsuites", "testsuite"):
        return None
    return [_junit_case(case) for case in list(root.iter("testcase"))[:MAX_TESTS]]


def _junit_case(case: ET.Element) -> TestCase:
    name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")[:TEXT_CHARS]
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            detail = found.get("message") or found.text or ""
            return TestCase(id=name, outcome=outcome, message=_head(detail))
    return TestCase(id=name, outcome="passed", duration_seconds=_seconds(case.get("time")))


def _head(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:MESSAGE_LINES])[:1000]


def _seconds(value: str | None) -> float:
    try:
        return max(float(value or 0), 0.0)
    except ValueError:
        return 0.0


def parse_coverage_summary(text: str) -> Coverage | None:
    """Istanbul's `json-summary`: the total line percent and each file's; None when it is not one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    total = _percent(data.get("total")) if isinstance(data, dict) else None
    if total is None:
        return None
    files = [FileCoverage(path=relative_path(path[:TEXT_CHARS]), percent=percent)
             for path, entry in list(data.items())[:MAX_FILES]
             if path != "total" and (percent := _percent(entry)) is not None]
    return Coverage(percent=round(total, 2), files=files)


def _percent(entry: Any) -> float | None:
    lines = entry.get("lines") if isinstance(entry, dict) else None
    value = lines.get("pct") if isinstance(lines, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        return None
    return float(value)
