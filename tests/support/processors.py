"""Job processors for queue tests, loaded by worker processes through GRADER_JOB_PROCESSOR."""

from __future__ import annotations

import asyncio
import os

from grader.db.models import JobKind, Submission
from grader.grading.result import CheckGrade, GradeResult, grade_to_dict
from grader.pipeline import process_job
from grader.pipeline.context import JobContext
from grader.queue.jobs import ClaimedJob, JobOutput


async def sleepy_processor(job: ClaimedJob, context: JobContext) -> JobOutput:
    """Sleeps GRADER_TEST_SLEEP seconds, then returns a result that names the attempt."""
    await asyncio.sleep(float(os.environ.get("GRADER_TEST_SLEEP", "0")))
    return JobOutput(score=100.0, grade="S", report={"attempt": job.attempt, "pid": os.getpid()},
                     duration_seconds=0.0)


async def broken_processor(job: ClaimedJob, context: JobContext) -> JobOutput:
    raise ConnectionError("runner host unreachable")


def canned_score(head_sha: str) -> float:
    """The score a canned grading gives: the SHA's first three digits ("085…" grades 85)."""
    return float(int(head_sha[:3]))


async def canned_course_processor(job: ClaimedJob, context: JobContext) -> JobOutput | None:
    """Grades without a container (the score is written in the SHA, with the assignment's rubric) and
    publishes as the service does: the real publish handler, to the (fake) GitHub."""
    if job.kind is JobKind.PUBLISH:
        return await process_job(job, context)
    async with context.sessionmaker() as session:
        submission = await session.get(Submission, job.submission_id)
    assert submission is not None
    rubric = context.rubric_for(submission.assignment_id)
    score = canned_score(submission.head_sha)
    check = CheckGrade(id="tests", title="Tests", passed=score >= 90, points=score, max_points=100.0,
                       summary=f"{score:g} of 100")
    result = GradeResult(score=score, grade=rubric.grade_for(score), bands=rubric.band_names, checks=[check],
                         rubric_id=rubric.id, rubric_version=rubric.version, language=rubric.language)
    return JobOutput(score=score, grade=result.grade, report=grade_to_dict(result), duration_seconds=0.1,
                     then_publish=True)
