"""The PR comment: the first screen says the grade and what to do; the details say exactly where.

`render_comment` is pure. Everything a student controls goes through `grader.feedback.escape`, and
the result stays under GitHub's 65,536-character limit: detail lists are cut first, visibly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from grader.feedback.escape import code_block, inline, safe_url
from grader.grading.report import DependencyReport, Report, TestCase
from grader.grading.result import CheckChange, CheckGrade, FailedTest, GradeResult, Remediation
from grader.texts import Texts, texts_for

GITHUB_COMMENT_LIMIT = 65_536
# Room for the hidden markers the publisher puts in front of the body.
MAX_BODY_CHARS = GITHUB_COMMENT_LIMIT - 200
TESTS_SHOWN = 50
FILES_SHOWN = 5
REVIEW_SHOWN = 20
MESSAGE_LINES = 6


@dataclass(frozen=True)
class CommentContext:
    """Where the graded code lives, for links to a file and line at the head SHA."""

    repo: str = ""  # "owner/name"
    head_sha: str = ""
    html_url: str = "https://github.com"
    max_chars: int = MAX_BODY_CHARS


def number(value: float) -> str:
    """80.0 -> "80", 74.55 -> "74.5": points as a person writes them."""
    return f"{value:.1f}".removesuffix(".0")


def _links(items: list[Remediation]) -> str:
    links = [f"[{inline(item.title, 80)}]({url})" for item in items if (url := safe_url(item.url))]
    return ", ".join(links)


def _mark(check: CheckGrade, texts: Texts) -> str:
    return texts.needs_review if check.needs_review else "✅" if check.passed else "❌"


def signed(value: float) -> str:
    """+5, −3.5, ±0: a change as a person writes it."""
    if value == 0:
        return "±0"
    return f"+{number(value)}" if value > 0 else f"−{number(-value)}"


def _change_cell(change: CheckChange | None, texts: Texts) -> str:
    if change is None:
        return ""
    label = texts.change_kinds.get(change.status, "")
    delta = f" ({signed(change.points_delta)})" if change.points_delta else ""
    return f"{label}{delta}" if label else signed(change.points_delta) if change.points_delta else ""


def _table(result: GradeResult, texts: Texts) -> list[str]:
    diff = result.since_last
    if diff is None:
        lines = [f"| {texts.check} | {texts.points} | {texts.result} |", "|---|---:|:---:|"]
    else:
        lines = [f"| {texts.check} | {texts.points} | {texts.result} | {texts.since_last_column} |",
                 "|---|---:|:---:|---|"]
    changes = {change.id: change for change in diff.checks} if diff else {}
    for check in result.checks:
        points = f"{number(check.points)} / {number(check.max_points)}"
        row = f"| {inline(check.title, 80)} | {points} | {_mark(check, texts)} |"
        lines.append(row if diff is None else f"{row} {_change_cell(changes.get(check.id), texts)} |")
    return lines


def _since_last_line(result: GradeResult, texts: Texts) -> list[str]:
    diff = result.since_last
    if diff is None:
        return []
    grades = (texts.since_last_grades.format(before=inline(diff.previous_grade, 20), grade=inline(result.grade, 20))
              if diff.previous_grade != result.grade else "")
    return [texts.since_last.format(sha=inline(diff.previous_sha[:7], 12) or "—", before=number(diff.previous_score),
                                    score=number(diff.previous_score + diff.score_delta),
                                    delta=signed(diff.score_delta), grades=grades), ""]


def _failure_line(check: CheckGrade, texts: Texts) -> str:
    mark = "⚠️" if check.needs_review else "❌"
    line = f"- {mark} **{inline(check.title, 80)}**: {inline(check.summary, 300)}"
    links = _links(check.remediation)
    if check.failed_tests and not check.needs_review:
        return "\n".join([line, *(_failed_test_line(item, texts) for item in check.failed_tests)])
    return f"{line} — {texts.reread}: {links}" if links and not check.needs_review else line


def _failed_test_line(item: FailedTest, texts: Texts) -> str:
    """A failed hidden test under its check: the rubric's hint and the test's own sections."""
    hint = texts.failed_hidden_hint.format(name=inline(item.id, 100), hint=inline(item.hint, 300)) if item.hint \
        else inline(item.id, 100)
    links = _links(item.remediation)
    return f"  - {hint} — {texts.reread}: {links}" if links else f"  - {hint}"


def _held_back_lines(result: GradeResult, texts: Texts) -> list[str]:
    """Why the grade is below the band the points reach: each requirement that did not hold."""
    if not result.held_back:
        return []
    band = result.held_back[0].band
    return ["", texts.held_back.format(band=inline(band, 20)), "",
            *(f"- {inline(item.reason, 400)}" for item in result.held_back)]


def _next_grade_line(result: GradeResult, texts: Texts) -> str:
    if result.next_grade is None:
        return texts.top_grade
    titles = {check.id: check.title for check in result.checks}
    opening, closing = texts.quotes
    names = ", ".join(f"{opening}{inline(titles.get(check_id, check_id), 80)}{closing}"
                      for check_id in result.to_next_grade)
    return texts.to_next_grade.format(grade=result.next_grade, checks=names) if names else ""


def dependency_line(report: DependencyReport | None, texts: Texts) -> str:
    """What was installed for the submission, or why not; "" when the rubric installs nothing."""
    if report is None or report.policy == "image":
        return ""
    source = inline(report.source, 120)
    if report.failure:
        template = getattr(texts, f"deps_{report.failure}", texts.deps_error)
        reason = template.format(detail=inline(report.detail, 300), python=inline(report.python, 20))
        rest = texts.deps_rest_installed.format(count=len(report.packages)) if report.packages else ""
        return texts.deps_failed.format(reason=reason) + rest
    if report.packages:
        return texts.deps_installed.format(count=len(report.packages), source=source, seconds=number(report.seconds),
                                           cached=texts.deps_cached if report.cached else "")
    return texts.deps_in_image.format(source=source) if report.from_image else texts.deps_none


def _adjustment_lines(result: GradeResult, texts: Texts) -> list[str]:
    """Why the grade is not what the checks gave: set by the instructor, or cut for lateness."""
    if result.override is not None:
        override = result.override
        lines = [texts.override_notice.format(grade=inline(override.grade, 20), score=number(override.score),
                                              before=number(override.score_before))]
        if override.note.strip():
            lines.append(texts.override_note.format(note=inline(override.note, 500)))
        return lines
    if result.late is not None:
        late = result.late
        deadline = datetime.fromisoformat(late.deadline).isoformat(sep=" ", timespec="minutes")
        return [texts.late_notice.format(days=late.days, deadline=deadline, percent=number(late.percent),
                                         before=number(late.score_before), score=number(result.score))]
    return []


def first_screen(result: GradeResult) -> str:
    """Grade and score (and why they differ from the checks' when they do), the table of checks, what
    was installed, one line per failure, the way to the next grade."""
    texts = texts_for(result.language)
    adjustments = _adjustment_lines(result, texts)
    parts = [texts.grade_heading.format(grade=inline(result.grade, 20), score=number(result.score)), "",
             *[line + "  " for line in adjustments[:-1]], *adjustments[-1:], *([""] if adjustments else [])]
    if result.report.rejected:
        parts += [texts.rejected.format(reason=inline(result.report.rejected, 500)), ""]
    parts += _since_last_line(result, texts)
    parts += _table(result, texts)
    if result.graded_by_service:
        opening, closing = texts.quotes
        names = ", ".join(f"{opening}{inline(title, 80)}{closing}" for title in result.graded_by_service)
        parts += ["", texts.graded_by_service.format(checks=names)]
    dependencies = dependency_line(result.report.dependencies, texts)
    if dependencies:
        parts += ["", dependencies]
    failures = [_failure_line(check, texts) for check in result.checks if not check.passed]
    if failures:
        parts += ["", f"**{texts.failures}**", "", *failures]
    if not adjustments:
        parts += _held_back_lines(result, texts)
    if any(check.needs_review for check in result.checks):
        parts += ["", f"_{texts.review_note}_"]
    next_line = "" if adjustments else _next_grade_line(result, texts)
    return "\n".join([*parts, "", next_line] if next_line else parts)


def _details(summary: str, items: list[str], budget: int, texts: Texts, max_items: int) -> tuple[str, bool]:
    """A collapsed section with up to `max_items` items that fit in `budget`, and how many more there
    are; True when the budget (GitHub's limit), not the cap, cut some."""
    head, tail = f"<details><summary>{summary}</summary>\n\n", "\n\n</details>"
    kept: list[str] = []
    used = len(head) + len(tail) + 80
    over_budget = False
    for item in items:
        if len(kept) == max_items:
            break
        if used + len(item) + 1 > budget:
            over_budget = True
            break
        kept.append(item)
        used += len(item) + 1
    if not kept and items:
        return "", True
    cut = len(items) - len(kept)
    if cut:
        kept.append(texts.truncated.format(count=cut))
    return head + "\n".join(kept) + tail, over_budget


def _file_link(ctx: CommentContext, path: str, line: int) -> str:
    label = inline(f"{path}:{line}", 120)
    if not (ctx.repo and ctx.head_sha):
        return label
    url = f"{ctx.html_url}/{quote(ctx.repo)}/blob/{quote(ctx.head_sha)}/{quote(path)}#L{line}"
    return f"[{label}]({url})"


def _lint_items(report: Report, ctx: CommentContext) -> list[str]:
    return [f"- {_file_link(ctx, f.file, f.line)} **{inline(f.code, 20)}** {inline(f.message, 200)}"
            for f in report.lint]


def _test_items(tests: list[TestCase], texts: Texts) -> list[str]:
    """Each failed test with the first lines of its message (the assertion and what it compared)."""
    return [_test_item(t, texts) for t in tests if t.outcome in {"failed", "error"}]


def _test_item(test: TestCase, texts: Texts) -> str:
    lines = [line for line in test.message.splitlines() if line.strip()]
    if len(lines) <= 1:
        return f"- {inline(test.id, 150)} — {inline(test.message, 300) or texts.no_message}"
    block = code_block(lines, MESSAGE_LINES).replace("\n", "\n  ")
    return f"- {inline(test.id, 150)}\n\n  {block}"


def _coverage_items(report: Report, texts: Texts) -> list[str]:
    if report.coverage is None:
        return []
    files = sorted((f for f in report.coverage.files if f.percent < 100), key=lambda f: (f.percent, f.path))
    rows = [f"| {inline(f.path, 120)} | {number(f.percent)} % |" for f in files[:FILES_SHOWN]]
    return [f"| {texts.file} | {texts.coverage} |\n|---|---:|", *rows] if rows else []


def _startup_section(report: Report, texts: Texts) -> tuple[str, list[str]]:
    step = report.step("tests")
    if step is None or not step.error_lines or report.tests:
        return "", []
    return texts.tests_not_started, [code_block(step.error_lines[1:] or step.error_lines, 15)]


def _dependency_items(report: Report, texts: Texts) -> list[str]:
    deps = report.dependencies
    if deps is None:
        return []
    return ["- " + texts.deps_notes.get(note.kind, "{subject}").format(subject=inline(note.subject, 150))
            for note in deps.notes]


def _image_version_items(report: Report, texts: Texts) -> list[str]:
    deps = report.dependencies
    if deps is None:
        return []
    return ["- " + texts.deps_image_version.format(name=inline(item.name, 80), version=inline(item.version, 40),
                                                   declared=inline(item.declared, 80))
            for item in deps.image_versions]


def _review_items(report: Report, ctx: CommentContext, texts: Texts) -> list[str]:
    """The tamper scan's findings, each linked to its file and line."""
    return [f"- {_file_link(ctx, item.file, item.line)} "
            f"{inline(texts.tamper_kinds.get(item.kind, item.detail).format(name=item.name), 200)}"
            for item in report.tamper]


def _migration_section(report: Report, texts: Texts) -> tuple[str, list[str]]:
    failed = next((step for step in report.migrations if not step.ok), None)
    if failed is None:
        return "", []
    return texts.migration_failed.format(step=inline(failed.name, 40)), [code_block(failed.error_lines, 15)]


def _hinted(result: GradeResult) -> bool:
    return any(item.hint for check in result.checks for item in check.failed_tests)


def detail_sections(result: GradeResult, ctx: CommentContext, budget: int) -> tuple[list[str], bool]:
    """Every collapsed section that has something to say, within `budget` characters in total."""
    texts, report = texts_for(result.language), result.report
    tests, hidden = _test_items(report.tests, texts), _test_items(report.hidden_tests, texts)
    left_out = _dependency_items(report, texts)
    replaced = _image_version_items(report, texts)
    # Hidden tests with a hint are named on the first screen; their raw errors are only details.
    hidden_summary = (texts.error_details if _hinted(result) else texts.failed_hidden_tests).format(count=len(hidden))
    wanted = [
        (texts.deps_left_out.format(count=len(left_out)), left_out, 20),
        (texts.deps_image_versions.format(count=len(replaced)), replaced, 20),
        (*_startup_section(report, texts), 1),
        (texts.review_findings.format(count=len(report.tamper)), _review_items(report, ctx, texts), REVIEW_SHOWN),
        (texts.lint_findings.format(count=len(report.lint)), _lint_items(report, ctx), result.lint_shown),
        (texts.failed_tests.format(count=len(tests)), tests, TESTS_SHOWN),
        (hidden_summary, hidden, TESTS_SHOWN),
        (texts.least_covered, _coverage_items(report, texts), FILES_SHOWN + 1),
        (*_migration_section(report, texts), 1),
    ]
    sections, truncated = [], False
    for summary, items, max_items in wanted:
        if not items:
            continue
        text, cut = _details(summary, items, budget, texts, max_items)
        truncated |= cut
        if text:
            sections.append(text)
            budget -= len(text) + 2
    return sections, truncated


def footer(result: GradeResult, ctx: CommentContext) -> str:
    texts = texts_for(result.language)
    sha = inline((ctx.head_sha or "")[:12], 12) or "—"
    return "<sub>" + texts.footer.format(duration=number(result.report.duration_seconds), sha=sha,
                                         rubric=inline(result.rubric_id, 60),
                                         version=inline(result.rubric_version, 20)) + "</sub>"


def render_comment(result: GradeResult, ctx: CommentContext) -> str:
    """The whole comment body (without the publisher's hidden markers)."""
    texts = texts_for(result.language)
    head, tail = first_screen(result), footer(result, ctx)
    budget = ctx.max_chars - len(head) - len(tail) - len(texts.comment_truncated) - 700
    sections, truncated = detail_sections(result, ctx, budget)
    notes = [texts.comment_truncated] if truncated else []
    if result.report.truncated:
        cut = "; ".join(inline(item, 120) for item in result.report.truncated[:5])
        notes.append(texts.output_truncated.format(what=cut))
    return "\n\n".join([head, *sections, *notes, tail]) + "\n"
