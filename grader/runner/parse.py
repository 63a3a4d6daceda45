"""Machine-readable tool output into report parts: ruff JSON and the grader plugin's test results
(with coverage.py's JSON report).

Everything parsed here came out of the sandbox, so it is untrusted: it is bounded on the way out of
the container, malformed input is a finding about the submission ("no test results"), never an
exception, and every string kept is cut short.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from grader.grading.report import Coverage, FileCoverage, LintFinding, TestCase
from grader.runner.harness.protocol import SUBMISSION_DIR

SYNTAX_ERROR_CODE = "syntax-error"
TEXT_CHARS = 300
MAX_TESTS = 5000
MAX_FILES = 2000
MAX_MISSING_LINES = 500


@dataclass(frozen=True)
class TestRun:
    """What the grader's pytest plugin sent at the end of a session."""

    exit_status: int
    cases: list[TestCase]
    coverage: Coverage | None


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except (ValueError, RecursionError):
        return None


def _text(value: Any, limit: int = TEXT_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31 else default


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 100 else None


def relative_path(path: str) -> str:
    prefix = SUBMISSION_DIR + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def parse_ruff(text: str | None) -> list[LintFinding] | None:
    """ruff's `--output-format json`; None when it is missing or not ruff's format."""
    items = _loads(text)
    if not isinstance(items, list):
        return None
    return [finding for item in items if (finding := _ruff_finding(item)) is not None]


def _ruff_finding(item: Any) -> LintFinding | None:
    if not isinstance(item, dict):
        return None
    start, end = item.get("location"), item.get("end_location")
    start, end = (start if isinstance(start, dict) else {}), (end if isinstance(end, dict) else {})
    return LintFinding(
        file=relative_path(_text(item.get("filename"))), line=_int(start.get("row")),
        column=_int(start.get("column")), code=_text(item.get("code"), 40) or SYNTAX_ERROR_CODE,
        message=_text(item.get("message"), 1000), url=_text(item.get("url")),
        end_line=_int(end.get("row"), 0) or None, end_column=_int(end.get("column"), 0) or None)


def parse_results(text: str | None) -> TestRun | None:
    """The grader plugin's document; None unless pytest reached its own session end and said so."""
    data = _loads(text)
    if not isinstance(data, dict) or data.get("finished") is not True or not isinstance(data.get("tests"), list):
        return None
    cases = [case for item in data["tests"][:MAX_TESTS] if (case := _result_case(item)) is not None]
    coverage = data.get("coverage")
    return TestRun(exit_status=_int(data.get("exitstatus"), -1), cases=cases,
                   coverage=coverage_from(coverage) if isinstance(coverage, dict) else None)


def _result_case(item: Any) -> TestCase | None:
    if not isinstance(item, dict) or item.get("outcome") not in ("passed", "failed", "error", "skipped"):
        return None
    test_id = _text(item.get("id"))
    return TestCase(id=test_id, outcome=item["outcome"], message=first_lines(_text(item.get("message"), 2000))) \
        if test_id else None


MESSAGE_LINES = 6


def first_lines(text: str, limit: int = 300) -> str:
    """The first few non-blank lines of a failure message (the assertion and what it compared), each cut
    at `limit` characters; the comment shows them as a block."""
    lines = [line.rstrip()[:limit] for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:MESSAGE_LINES])


def parse_coverage(text: str | None) -> Coverage | None:
    """coverage.py's JSON report as text (see `coverage_from`)."""
    data = _loads(text)
    return coverage_from(data) if isinstance(data, dict) else None


def coverage_from(data: dict[str, Any]) -> Coverage | None:
    """coverage.py's JSON report: total percent (branch-aware) and each file's missing lines."""
    totals, files = data.get("totals"), data.get("files")
    percent = _number(totals.get("percent_covered")) if isinstance(totals, dict) else None
    if percent is None:
        return None
    kept = [item for path, entry in sorted(files.items())[:MAX_FILES] if (item := _file_coverage(path, entry))] \
        if isinstance(files, dict) else []
    return Coverage(percent=round(percent, 2), files=kept)


def _file_coverage(path: str, entry: Any) -> FileCoverage | None:
    summary = entry.get("summary") if isinstance(entry, dict) else None
    percent = _number(summary.get("percent_covered")) if isinstance(summary, dict) else None
    if percent is None:
        return None
    missing = entry.get("missing_lines")
    lines = [_int(line) for line in missing[:MAX_MISSING_LINES]] if isinstance(missing, list) else []
    return FileCoverage(path=relative_path(_text(path)), percent=percent, missing_lines=lines)


STARTUP_OUTPUT_CHARS = 16_000  # what the harness sends of a run that stopped before its tests
LINE_CHARS = 500
STARTUP_NOISE = re.compile(r"^(=+|!+|_+|-+)( .* (=+|!+|_+|-+))?$"
                           r"|^(Interrupted|short test summary info|ERROR: not found)"
                           r"|CoverageWarning|^self\._?warn\(")


def startup_error_lines(output: str, keep: int = 12) -> list[str]:
    """Why pytest stopped before running a test: the error's headline, then the output's last lines
    (paths inside the sandbox shown relative to the repository)."""
    lines = [line.rstrip()[:LINE_CHARS].replace(SUBMISSION_DIR + "/", "")
             for line in output[-STARTUP_OUTPUT_CHARS:].splitlines()]
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

