"""Grade results for rendering and publishing tests: a passing one and a failing one.

The failing one carries student-controlled text that tries to break out of the comment.
"""

from __future__ import annotations

from grader.grading.report import (
    Coverage,
    DependencyNote,
    DependencyReport,
    FileCoverage,
    LintFinding,
    MigrationStep,
    QuizResult,
    Report,
    TestCase,
)
from grader.grading.result import CheckGrade, GradeResult, Remediation

BASE = "https://textbook.example.org/sqlalchemy-async"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
BANDS = ["S", "A", "B", "C"]  # the lesson rubric's


def _links(*anchors: str) -> list[Remediation]:
    titles = {"sa1": "SA1. Движок и сессия", "sa2": "SA2. Транзакции и создание схемы",
              "sa4": "SA4. Переход на Postgres", "sa5": "SA5. Паттерны"}
    return [Remediation(title=titles[a], url=f"{BASE}#{a}") for a in anchors]


def passing_result(language: str = "ru") -> GradeResult:
    checks = [
        CheckGrade("lint", "Стиль кода (ruff)", True, 10, 10, "0 замечаний"),
        CheckGrade("tests", "Тесты студента", True, 20, 20, "12 из 12 тестов прошли"),
        CheckGrade("coverage", "Покрытие", True, 15, 15, "покрытие 91 %"),
        CheckGrade("quiz", "Квиз", True, 10, 10, "14 из 15 ответов верны"),
    ]
    dependencies = DependencyReport(policy="declared", python="3.11.2", source="uv.lock + pyproject.toml",
                                    packages=[f"package-{number}==1.0" for number in range(23)], cached=True,
                                    seconds=0.4)
    report = Report(coverage=Coverage(percent=91.0, files=[FileCoverage("backend/app/database.py", 100.0)]),
                    migrations=[MigrationStep("upgrade", True)], quiz=QuizResult(15, 14, 15),
                    dependencies=dependencies, duration_seconds=41.25)
    return GradeResult(score=100.0, grade="S", bands=BANDS, checks=checks, next_grade=None,
                       rubric_id="sqlalchemy-async", rubric_version="1", language=language, report=report)


def hostile_report(lint_count: int = 3) -> Report:
    lint = [LintFinding(file="backend/app/models.py", line=10 + i, column=1, code="F401",
                        message="`os` imported but unused </details> @octocat", end_line=10 + i, end_column=9)
            for i in range(lint_count)]
    tests = [
        TestCase("tests/test_api.py::test_create[</details><script>]", "failed",
                 "AssertionError: assert 1 == 2 | @instructor please ```fix```"),
        TestCase("tests/test_api.py::test_ok", "passed"),
        TestCase("tests/test_db.py::test_rollback", "error",
                 "sqlalchemy.exc.MissingGreenlet: greenlet_spawn\nhas not been called"),
    ]
    hidden = [TestCase("test_lesson_checklist.py::test_expire_on_commit_is_disabled", "failed",
                       "expire_on_commit must be False")]
    coverage = Coverage(percent=62.5, files=[
        FileCoverage("backend/app/database.py", 40.0), FileCoverage("backend/app/models.py", 100.0),
        FileCoverage("backend/app/[evil](x).py", 55.5)])
    error_lines = ["Traceback (most recent call last):", "```", "sqlalchemy.exc.ProgrammingError: boom"]
    migrations = [MigrationStep("upgrade", True), MigrationStep("downgrade", False, error_lines=error_lines)]
    dependencies = DependencyReport(
        policy="declared", python="3.11.2", source="requirements.txt", packages=["pydantic-settings==2.1.0"],
        seconds=3.2, failure="no_wheel", detail="async-asgi-testclient</details>",
        notes=[DependencyNote("editable", "-e ./lib"), DependencyNote("url", "git+https://example.org/@x/y.git")])
    return Report(lint=lint, tests=tests, hidden_tests=hidden, coverage=coverage, migrations=migrations,
                  quiz=QuizResult(15, 9, 15), dependencies=dependencies, duration_seconds=63.0)


def failing_result(language: str = "ru", lint_count: int = 3) -> GradeResult:
    checks = [
        CheckGrade("lint", "Стиль кода (ruff)", False, 8.5, 10, f"{lint_count} замечания", _links("sa5")),
        CheckGrade("tests", "Тесты студента", False, 10, 20, "1 из 3 тестов прошли", _links("sa2", "sa5")),
        CheckGrade("coverage", "Покрытие", False, 8.1, 15, "покрытие 62.5 %, нужно 80 %", _links("sa5")),
        CheckGrade("migrations", "Миграции на PostgreSQL", False, 4, 10, "2 из 5 шагов", _links("sa4")),
        CheckGrade("hidden_tests", "Чек-лист урока", False, 20, 30, "6 из 9", _links("sa1", "sa2")),
        CheckGrade("quiz", "Квиз", False, 0, 15, "9 из 15 (60 %), нужно 80 %", _links("sa1")),
    ]
    return GradeResult(score=50.6, grade="C", bands=BANDS, checks=checks, next_grade="B",
                       to_next_grade=["quiz", "tests"], rubric_id="sqlalchemy-async", rubric_version="1",
                       language=language, report=hostile_report(lint_count))
