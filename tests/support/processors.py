"""Job processors for queue tests, loaded by worker processes through GRADER_JOB_PROCESSOR."""

from __future__ import annotations

import asyncio
import os

from grader.pipeline.context import JobContext
from grader.queue.jobs import ClaimedJob, JobOutput


async def sleepy_processor(job: ClaimedJob, context: JobContext) -> JobOutput:
    """Sleeps GRADER_TEST_SLEEP seconds, then returns a result that names the attempt."""
    await asyncio.sleep(float(os.environ.get("GRADER_TEST_SLEEP", "0")))
    return JobOutput(score=100.0, grade="S", report={"attempt": job.attempt, "pid": os.getpid()},
                     duration_seconds=0.0)


async def broken_processor(job: ClaimedJob, context: JobContext) -> JobOutput:
    raise ConnectionError("runner host unreachable")
