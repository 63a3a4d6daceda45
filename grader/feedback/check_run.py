"""The check run's output: title, summary (the comment's first screen), details, lint annotations."""

from __future__ import annotations

from typing import Any

from grader.feedback.comment import CommentContext, detail_sections, first_screen, number
from grader.feedback.texts import texts_for
from grader.grade import GradeResult
from grader.report import LintFinding

CHECK_OUTPUT_LIMIT = 65_535
ANNOTATION_MESSAGE_LIMIT = 2_000


def conclusion(result: GradeResult) -> str:
    """Green when every check passed, red at grade C, neutral in between."""
    if all(check.passed for check in result.checks):
        return "success"
    return "failure" if result.grade == "C" else "neutral"


def annotation(finding: LintFinding) -> dict[str, Any]:
    """A lint finding as a check-run annotation (plain text: GitHub does not render Markdown here)."""
    line = max(finding.line, 1)
    end_line = max(finding.end_line or line, line)
    item: dict[str, Any] = {"path": finding.file, "start_line": line, "end_line": end_line,
                            "annotation_level": "warning", "title": finding.code[:100],
                            "message": finding.message[:ANNOTATION_MESSAGE_LIMIT] or finding.code}
    if end_line == line and finding.column >= 1 and (finding.end_column or 0) >= finding.column:
        item.update(start_column=finding.column, end_column=finding.end_column)
    return item


def check_title(result: GradeResult) -> str:
    return texts_for(result.language).check_title.format(grade=result.grade, score=number(result.score))


def check_summary(result: GradeResult) -> str:
    return first_screen(result)[:CHECK_OUTPUT_LIMIT]


def check_text(result: GradeResult, ctx: CommentContext) -> str:
    sections, truncated = detail_sections(result, ctx, CHECK_OUTPUT_LIMIT - 200)
    notes = [texts_for(result.language).comment_truncated] if truncated else []
    return "\n\n".join([*sections, *notes])


def annotations(result: GradeResult) -> list[dict[str, Any]]:
    return [annotation(finding) for finding in result.report.lint]
