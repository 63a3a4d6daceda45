"""`grader rubric check FILE…` and `grader quiz render FILE`: authoring a rubric without the source."""

from __future__ import annotations

import argparse
import sys

from grader.errors import CommandError
from grader.feedback.comment import number
from grader.grading.quiz import load_quiz, quiz_markdown
from grader.grading.rubric import Rubric
from grader.grading.rubric_loader import RubricError, load_checked_rubric
from grader.settings import Settings


def describe(rubric: Rubric) -> str:
    """One line saying what a valid rubric holds."""
    bands = "/".join(rubric.band_names)
    parts = [f"{len(rubric.checks)} checks, {number(rubric.max_points)} points, grades {bands}"]
    if rubric.quiz is not None:
        parts.append(f"quiz of {len(load_quiz(rubric.quiz.key_path).questions)} questions")
    required = [band.name for band in rubric.grades if band.requires]
    if required:
        parts[0] += f" ({'/'.join(required)} with required checks)"
    if rubric.hidden_tests_dir is not None:
        declared = f", {len(rubric.hidden_tests)} with sections and hints" if rubric.hidden_tests else ""
        parts.append(f"hidden tests in {rubric.hidden_tests_dir.name}/{declared}")
    return ", ".join(parts)


def rubric_check_command(args: argparse.Namespace, settings: Settings) -> int:
    """Each file: `FILE: ok (…)` on stdout, or its one-line error on stderr; exit 2 if any is bad."""
    failed = 0
    for path in args.files:
        try:
            rubric = load_checked_rubric(settings.grading, path)
        except RubricError as exc:
            print(f"grader: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{path}: ok ({describe(rubric)})")
    return 2 if failed else 0


def quiz_render_command(args: argparse.Namespace, settings: Settings) -> int:
    """The students' quiz page (questions, options, the answers file's format; never the key)."""
    rubric = load_checked_rubric(settings.grading, args.file)
    if rubric.quiz is None:
        raise CommandError(f"{args.file}: has no [quiz] table")
    key = load_quiz(rubric.quiz.key_path)
    print(quiz_markdown(key.title, key.questions, rubric.quiz.answers_file, rubric.quiz.pass_percent,
                        rubric.language), end="")
    return 0
