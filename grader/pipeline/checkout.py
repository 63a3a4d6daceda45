"""Grade a checked-out submission: run the checks in the sandbox, scan it for tampering and grade the
quiz on the host, score.

The worker and `grader check` both come here. The quiz and the tamper scan only read the checkout's
files on the host (the quiz key never enters the container); a push that could not be run at all is
scored as such (`Report.rejected`), with nothing else read from it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from grader.grading.quiz import grade_quiz
from grader.grading.result import GradeResult
from grader.grading.rubric import Rubric
from grader.grading.scoring import score
from grader.grading.tamper import scan_checkout
from grader.runner.assemble import rejected_report
from grader.runner.run import Progress, run_checks
from grader.settings import DependencySettings, RunnerSettings


async def grade_checkout(checkout: Path, rubric: Rubric, settings: RunnerSettings,
                         progress: Progress | None = None, *, public_only: bool = False,
                         dependencies: DependencySettings | None = None) -> GradeResult:
    """`public_only`: leave the private checks (hidden tests, quiz) to the service, as a run in a
    repository the student controls must; the result says which were left out."""
    graded = rubric.public() if public_only else rubric
    report = await run_checks(checkout, graded, settings, progress, dependencies)
    if not report.rejected:
        report.tamper = await asyncio.to_thread(scan_checkout, checkout)
        if graded.quiz is not None:
            report.quiz = await asyncio.to_thread(grade_quiz, checkout, graded.quiz, graded.language)
    return score(report, graded, rubric.private_checks if public_only else ())


def grade_rejected(reason: str, rubric: Rubric) -> GradeResult:
    """The graded result of a push that could not be graded at all: every check failed with `reason`."""
    return score(rejected_report(reason, rubric.step_ids), rubric)
