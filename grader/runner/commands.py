"""`grader check` and `grader image build`: the runner as commands.

`check` exits 0 whenever grading ran, whatever the grade; it fails with one line only when it could
not grade (bad path, no container engine or image, bad rubric).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from grader.cli import CommandError
from grader.grade import GradeResult, grade_to_dict
from grader.report import InfrastructureError
from grader.rubric import Rubric, RubricError, default_rubric_path, load_rubric
from grader.runner.image import build_args, prepare_context
from grader.runner.run import grade_checkout
from grader.runner.sandbox import DockerSandbox
from grader.settings import Settings


def _rubric(path: str | None, settings: Settings) -> Rubric:
    chosen = Path(path) if path else (Path(settings.runner.rubric) if settings.runner.rubric else default_rubric_path())
    try:
        return load_rubric(chosen)
    except RubricError as exc:
        raise CommandError(str(exc)) from None


def _points(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def text_table(result: GradeResult) -> str:
    """The checks as an aligned table, then score, grade and what reaches the next grade."""
    rows = [("", "check", "points", "summary")]
    rows += [("ok" if check.passed else "FAIL", check.id, f"{_points(check.points)}/{_points(check.max_points)}",
              check.summary) for check in result.checks]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
             for row in rows]
    lines.append(f"score {_points(result.score)}/100, grade {result.grade}")
    if result.next_grade and result.to_next_grade:
        lines.append(f"to reach {result.next_grade}: fix {', '.join(result.to_next_grade)}")
    for check in result.checks:
        for link in check.remediation:
            lines.append(f"  reread for {check.id}: {link.title} <{link.url}>")
    return "\n".join(lines)


def markdown(result: GradeResult) -> str:
    """The PR comment's rendering when the feedback package is present, else a plain table."""
    try:
        from grader.feedback.comment import CommentContext, render_comment
    except ImportError:
        rows = [f"| {c.title} | {_points(c.points)} / {_points(c.max_points)} | {'✅' if c.passed else '❌'} |"
                for c in result.checks]
        head = f"**{result.grade}** — {_points(result.score)}/100\n\n| check | points | |\n|---|---:|:---:|"
        return "\n".join([head, *rows])
    return render_comment(result, CommentContext())


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    checkout = Path(args.path)
    if not checkout.is_dir():
        raise CommandError(f"{checkout} is not a folder: give the path of a checked-out submission")
    rubric = _rubric(args.rubric, settings)
    progress = (lambda line: print(line, flush=True)) if args.format == "text" else None
    try:
        result = asyncio.run(grade_checkout(checkout.resolve(), rubric, settings.runner, progress))
    except InfrastructureError as exc:
        raise CommandError(f"could not grade: {exc}") from None
    except ValueError as exc:  # a broken quiz key is the rubric's fault
        raise CommandError(f"could not grade: {exc}") from None
    if args.format == "json":
        print(json.dumps(grade_to_dict(result), ensure_ascii=False))
    elif args.format == "markdown":
        print(markdown(result))
    else:
        print(text_table(result))
    return 0


def image_build_command(args: argparse.Namespace, settings: Settings) -> int:
    rubric = _rubric(args.rubric, settings)
    tag = args.tag or settings.runner.image
    sandbox = DockerSandbox(settings.runner)

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="grader-image-") as folder:
            context = prepare_context(Path(folder))
            asyncio.run(sandbox.build_image(context, tag=tag, target="runner",
                                            build_args=build_args(rubric.packages, args.base), on_line=show))
    except InfrastructureError as exc:
        raise CommandError(str(exc)) from None
    print(f"built {tag}")
    return 0
