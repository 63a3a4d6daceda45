"""Grade a checked-out submission: run the checks in the sandbox, grade the quiz on the host, score.

The worker and `grader check` both come here. The quiz is graded on the host from the checkout's
files, so its key never enters the container.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from grader.grading.quiz import grade_quiz
from grader.grading.result import GradeResult
from grader.grading.rubric import Rubric
from grader.grading.scoring import score
from grader.runner.run import Progress, run_checks
from grader.settings import DependencySettings, RunnerSettings


async def grade_checkout(checkout: Path, rubric: Rubric, settings: RunnerSettings, progress: Progress | None = None,
                         dependencies: DependencySettings | None = None) -> GradeResult:
    report = await run_checks(checkout, rubric, settings, progress, dependencies)
    if rubric.quiz is not None:
        report.quiz = await asyncio.to_thread(grade_quiz, checkout, rubric.quiz)
    return score(report, rubric)
