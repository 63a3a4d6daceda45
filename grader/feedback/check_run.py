"""The check run's output: title, summary (the comment's first screen), details, lint annotations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.feedback.comment import CommentContext, detail_sections, first_screen, number, render_comment
from grader.feedback.escape import inline
from grader.grading.report import LintFinding
from grader.grading.result import GradeResult
from grader.texts import texts_for

CHECK_OUTPUT_LIMIT = 65_535
ANNOTATION_MESSAGE_LIMIT = 2_000


@dataclass(frozen=True)
class CheckRunOutput:
    """The check run's completed state, ready to post: title, summary, details, conclusion, annotations."""

    title: str
    summary: str
    text: str = ""
    conclusion: str = "neutral"  # success | failure | neutral
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Feedback:
    """Everything a graded result shows on GitHub, rendered: the PR comment and the check run."""

    comment: str
    check_run: CheckRunOutput


def conclusion(result: GradeResult) -> str:
    """Green when every check passed, red in the rubric's lowest band, neutral in between."""
    if all(check.passed for check in result.checks):
        return "success"
    return "failure" if result.bands and result.grade == result.bands[-1] else "neutral"


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


def lint_annotations(result: GradeResult) -> list[dict[str, Any]]:
    return [annotation(finding) for finding in result.report.lint]


def render_feedback(result: GradeResult, ctx: CommentContext) -> Feedback:
    """The PR comment and the check run of one graded result (pure)."""
    check_run = CheckRunOutput(title=check_title(result), summary=check_summary(result),
                               text=check_text(result, ctx), conclusion=conclusion(result),
                               annotations=lint_annotations(result))
    return Feedback(comment=render_comment(result, ctx), check_run=check_run)


def not_graded_check_run(reason: str, language: str) -> CheckRunOutput:
    """The check run of a push that could not be graded: a failure, with the one-line reason."""
    texts = texts_for(language)
    return CheckRunOutput(title=texts.not_graded_title, summary=texts.not_graded_summary.format(
        reason=inline(reason, 500)), conclusion="failure")
