"""The rendered comment: golden files for a passing and a failing result in both languages, limits."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.feedback.check_run import check_text, conclusion, lint_annotations
from grader.feedback.comment import GITHUB_COMMENT_LIMIT, CommentContext, render_comment
from grader.grading.report import DependencyReport, ImageVersion, StepResult, StepStatus
from grader.grading.report import TestCase as CaseResult
from grader.grading.result import GradeResult
from tests.feedback.factories import HEAD_SHA, failing_result, held_back_result, passing_result
from tests.support.golden import assert_matches_golden

GOLDEN = Path(__file__).parent / "golden"
CTX = CommentContext(repo="octo-org/hello-world", head_sha=HEAD_SHA)


def golden_outputs() -> Iterator[tuple[Path, str]]:
    for name, factory in (("passing", passing_result), ("failing", failing_result), ("held-back", held_back_result)):
        for language in ("ru", "en"):
            yield GOLDEN / f"{name}.{language}.md", render_comment(factory(language), CTX)


@pytest.mark.parametrize(("golden", "rendered"), list(golden_outputs()), ids=lambda value: getattr(value, "name", ""))
def test_render__matches_the_golden_file(golden: Path, rendered: str) -> None:
    assert_matches_golden(golden, rendered)


def test_render__english_and_russian_wording_differ() -> None:
    assert "## Оценка C: 50.6 из 100" in render_comment(failing_result("ru"), CTX)
    assert "## Grade C: 50.6 out of 100" in render_comment(failing_result("en"), CTX)


def test_render__first_screen_links_sections_and_names_the_way_to_the_next_grade() -> None:
    first_screen = render_comment(failing_result("en"), CTX).split("<details>")[0]

    assert "[SA4\\. Переход на Postgres](https://textbook.example.org/sqlalchemy-async#sa4)" in first_screen
    assert "**To reach B:** fix “Квиз”, “Тесты студента”." in first_screen


def test_render__student_text_cannot_close_details_or_mention_anyone() -> None:
    rendered = render_comment(failing_result("en"), CTX)

    assert rendered.count("<details>") == rendered.count("</details>") == 6
    assert re.search(r"@[A-Za-z]", rendered) is None
    assert "<script>" not in rendered


def test_render__lint_findings_link_to_the_line_at_the_head_sha() -> None:
    rendered = render_comment(failing_result("en"), CTX)

    assert f"https://github.com/octo-org/hello-world/blob/{HEAD_SHA}/backend/app/models.py#L11" in rendered


def test_render__a_huge_result_stays_under_the_limit_and_says_it_was_cut() -> None:
    result = failing_result("en", lint_count=5000)
    many = [CaseResult(f"tests/test_x.py::test_{i}", "failed", "x" * 400) for i in range(3000)]
    result.report.tests = many
    result.report.hidden_tests = many

    rendered = render_comment(result, CTX)

    assert len(rendered) < GITHUB_COMMENT_LIMIT - 100
    assert "…and " in rendered
    assert rendered.count("<details>") == rendered.count("</details>")


def test_render__a_tiny_budget_drops_details_and_marks_the_cut() -> None:
    rendered = render_comment(failing_result("en"), CommentContext(max_chars=2000))

    assert len(rendered) <= 2000
    assert "This comment was shortened" in rendered


def _with_checks_passed(result: GradeResult, grade: str) -> GradeResult:
    result.grade = grade
    result.checks = [check.__class__(**{**{f: getattr(check, f) for f in check.__struct_fields__},
                                        "passed": check.id != "quiz"}) for check in result.checks]
    return result


@pytest.mark.parametrize(("result", "expected"), [
    (passing_result(), "success"),
    (failing_result(), "failure"),
    (_with_checks_passed(failing_result(), "A"), "neutral"),
])
def test_check_run__conclusion_follows_the_grade(result: GradeResult, expected: str) -> None:
    assert conclusion(result) == expected


def test_check_run__annotations_carry_path_lines_and_columns() -> None:
    (first, *_) = lint_annotations(failing_result())

    assert first == {"path": "backend/app/models.py", "start_line": 10, "end_line": 10,
                     "annotation_level": "warning", "title": "F401", "start_column": 1, "end_column": 9,
                     "message": "`os` imported but unused </details> @octocat"}


def test_check_run__text_holds_the_details() -> None:
    assert "Failed tests (2)" in check_text(failing_result("en"), CTX)


def test_render__cut_tool_output_is_said_in_a_note() -> None:
    result = passing_result("ru")
    result.report.truncated = ["tests output after 1,000,000 bytes"]

    rendered = render_comment(result, CTX)

    assert "_Часть вывода проверок обрезана: tests output after 1,000,000 bytes._" in rendered


@pytest.mark.parametrize(("language", "dependencies", "line"), [
    ("en", DependencyReport(policy="declared", source="uv.lock", packages=["a==1", "b==2"], seconds=0.4, cached=True),
     "**Dependencies:** 2 packages from uv.lock, 0.4 s (cached)"),
    ("ru", DependencyReport(policy="declared", source="uv.lock", packages=["a==1"], seconds=12.0),
     "**Зависимости:** установлено пакетов: 1 (из uv.lock), 12 с"),
    ("en", DependencyReport(policy="declared", python="3.11.2", source="requirements.txt", packages=["a==1"],
                            failure="no_wheel", detail="numpy==1.21.0"),
     "**Dependencies not installed:** numpy==1.21.0 has no wheel for Python 3.11.2 (nothing is built from source): "
     "pick a version that has one (the others are installed: 1)"),
    ("en", DependencyReport(policy="declared", source="pyproject.toml", failure="denied", detail="torch"),
     "**Dependencies not installed:** not allowed by the assignment: torch"),
    ("ru", DependencyReport(policy="declared", source="poetry.lock", failure="over_count", detail="95 > 80"),
     "**Зависимости не установлены:** слишком много пакетов (95 > 80) — больше лимита задания"),
    ("en", DependencyReport(policy="declared", source="requirements.txt", from_image=["fastapi"]),
     "**Dependencies:** everything requirements.txt declares is in the grading image already"),
    ("en", DependencyReport(policy="declared", source="pyproject.toml"),
     "**Dependencies:** none declared (in uv.lock, poetry.lock, requirements*.txt or pyproject.toml)"),
    ("en", DependencyReport(policy="declared"),
     "**Dependencies:** none declared (in uv.lock, poetry.lock, requirements*.txt or pyproject.toml)"),
])
def test_render__the_dependency_step_in_the_first_screen(language: str, dependencies: DependencyReport,
                                                         line: str) -> None:
    result = passing_result(language)
    result.report.dependencies = dependencies

    first_screen = render_comment(result, CTX).split("<details>")[0]
    assert line in html.unescape(re.sub(r"\\(.)", r"\1", first_screen))


def test_render__a_rubric_that_installs_nothing_says_nothing_about_dependencies() -> None:
    result = passing_result("en")
    result.report.dependencies = DependencyReport(policy="image")
    assert "Dependencies" not in render_comment(result, CTX)


def test_render__lint_lists_the_rubrics_cap_and_counts_the_rest() -> None:
    result = failing_result("en", lint_count=85)
    result.lint_shown = 20

    rendered = render_comment(result, CTX)

    section = rendered.split("<summary>Lint findings (85)</summary>")[1].split("</details>")[0]
    assert section.count("\n- ") == 20
    assert "…and 65 more (not shown)" in section
    assert "This comment was shortened" not in rendered
    assert len(rendered) < 12_000


def test_render__tests_that_could_not_start_show_the_errors_last_lines() -> None:
    result = passing_result("en")
    result.report.steps = [StepResult(id="tests", status=StepStatus.FAILED, summary="tests could not start: x",
                                      error_lines=["ModuleNotFoundError: No module named 'dotenv'",
                                                   "tests/conftest.py:3: in <module>", "E   ModuleNotFoundError"])]

    rendered = render_comment(result, CTX)

    assert "<summary>Tests could not start: the last lines of pytest's output</summary>" in rendered
    assert "tests/conftest.py:3: in <module>" in rendered


def test_render__the_images_versions_used_instead_of_the_declared_ones_are_named() -> None:
    result = passing_result("en")
    result.report.dependencies = DependencyReport(policy="declared", source="poetry.lock", packages=["a==1"],
                                                  image_versions=[ImageVersion("httpx", "0.28.1", ">=0.24.1,<0.25.0")])

    rendered = html.unescape(re.sub(r"\\(.)", r"\1", render_comment(result, CTX)))

    assert "<summary>Dependencies: the grading image's versions instead of the declared ones (1)</summary>" in rendered
    assert "- httpx 0.28.1 (declared >=0.24.1,<0.25.0): the grading image has its own version, and it runs" in rendered
@pytest.mark.parametrize(("language", "note"), [("en", "are graded by the course's service"),
                                                 ("ru", "проверяет сервис курса")])
def test_render__a_public_only_result_names_the_checks_left_to_the_service(language: str, note: str) -> None:
    result = passing_result(language)
    result.graded_by_service = ["Hidden checks", "Quiz"]

    first_screen = render_comment(result, CTX).split("<details>")[0]

    assert note in first_screen
    assert "“Hidden checks”" in first_screen or "«Hidden checks»" in first_screen
    assert note not in render_comment(passing_result(language), CTX)
