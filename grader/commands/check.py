"""`grader check PATH`: grade a local checkout in the runner image and print the result.

It exits 0 whenever grading ran, whatever the grade; it fails with one line only when it could not
grade (bad path, no container engine or image, bad rubric).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import replace
from pathlib import Path

from grader.errors import CommandError
from grader.feedback.comment import CommentContext, number, render_comment
from grader.grading.report import InfrastructureError
from grader.grading.result import GradeResult, grade_to_dict
from grader.grading.rubric_loader import load_checked_rubric
from grader.pipeline.checkout import grade_checkout
from grader.settings import Settings


def text_table(result: GradeResult) -> str:
    """The checks as an aligned table, then score, grade and what reaches the next grade."""
    rows = [("", "check", "points", "summary")]
    rows += [("ok" if check.passed else "FAIL", check.id, f"{number(check.points)}/{number(check.max_points)}",
              check.summary) for check in result.checks]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
             for row in rows]
    lines.append(f"score {number(result.score)}/100, grade {result.grade}")
    lines += [f"  {item.reason}" for item in result.held_back]
    if result.next_grade and result.to_next_grade:
        lines.append(f"to reach {result.next_grade}: fix {', '.join(result.to_next_grade)}")
    if result.graded_by_service:
        lines.append(f"graded by the service, not here: {', '.join(result.graded_by_service)}")
    for check in result.checks:
        for item in check.failed_tests:
            what = item.hint or next(iter(item.message.splitlines()), "")
            lines.append(f"  {check.id} {item.id}: {what}")
        for link in check.remediation:
            lines.append(f"  reread for {check.id}: {link.title} <{link.url}>")
    return "\n".join(lines)


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    checkout = Path(args.path)
    if not checkout.is_dir():
        raise CommandError(f"{checkout} is not a folder: give the path of a checked-out submission")
    rubric = load_checked_rubric(settings.grading, args.rubric)
    progress = (lambda line: print(line, flush=True)) if args.format == "text" else None
    try:
        runner = replace(settings.runner, image=rubric.image) if rubric.image else settings.runner
        result = asyncio.run(grade_checkout(checkout.resolve(), rubric, runner, progress,
                                            public_only=args.public, dependencies=settings.dependencies))
    except InfrastructureError as exc:
        raise CommandError(f"could not grade: {exc}") from None
    if args.format == "json":
        print(json.dumps(grade_to_dict(result), ensure_ascii=False))
    elif args.format == "markdown":
        print(render_comment(result, CommentContext()))
    else:
        print(text_table(result))
    return 0
