"""`grader rubric check` and `grader quiz render`, through the command line's own entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main
from grader.settings import SHIPPED_RUBRIC

QUIZ_PAGE = SHIPPED_RUBRIC.parent / "sqlalchemy-async" / "QUIZ.md"


def test_rubric_check__a_valid_rubric_says_what_it_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubric", "check", str(SHIPPED_RUBRIC)]) == 0
    assert capsys.readouterr().out == (f"{SHIPPED_RUBRIC}: ok (6 checks, 100 points, grades S/A/B/C "
                                       "(S/A/B with required checks), quiz of 16 questions, "
                                       "hidden tests in hidden_tests/, 9 with sections and hints)\n")


def test_rubric_check__each_bad_file_is_one_line_and_the_exit_status_is_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(SHIPPED_RUBRIC.read_text(encoding="utf-8").replace(
        'requires = ["tests", "hidden_tests", "migrations"]', 'requires = ["tests", "essay"]'), encoding="utf-8")

    assert main(["rubric", "check", str(SHIPPED_RUBRIC), str(broken), str(tmp_path / "missing.toml")]) == 2
    out, err = capsys.readouterr()
    assert out.count(": ok (") == 1
    assert err.splitlines() == [
        f"grader: {broken}: grades.B.requires names unknown checks: essay "
        "(checks: lint, tests, coverage, migrations, hidden_tests, quiz)",
        f"grader: {tmp_path / 'missing.toml'}: cannot be read: No such file or directory"]


def test_quiz_render__prints_the_students_page_that_is_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quiz", "render", str(SHIPPED_RUBRIC)]) == 0
    page = capsys.readouterr().out
    assert page == QUIZ_PAGE.read_text(encoding="utf-8")
    assert "answer" not in page.split("```")[-1]


def test_quiz_render__a_rubric_without_a_quiz_is_one_line(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    without = tmp_path / "no-quiz.toml"
    without.write_text(NO_QUIZ, encoding="utf-8")
    assert main(["quiz", "render", str(without)]) == 2
    assert capsys.readouterr().err == f"grader: {without}: has no [quiz] table\n"


NO_QUIZ = """
[rubric]
id = "x"
title = "X"
remediation_base_url = "https://book.example.org/x"

[grades]
pass = 50
fail = 0

[[checks]]
id = "lint"
kind = "lint"
points = 10
"""
