"""A job processor for `bench/publish_bench.py` (GRADER_JOB_PROCESSOR=canned_grading:process): grading
takes GRADER_BENCH_GRADING_SECONDS and gives the real report of `bench/data/report.json`; publishing is
the service's own, to the (fake) GitHub. Only the timings of the queue and of publishing are measured."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from grader.db.models import JobKind
from grader.pipeline import process_job
from grader.queue.jobs import ClaimedJob, JobOutput

REPORT: dict[str, Any] = json.loads((Path(__file__).with_name("data") / "report.json").read_text())


async def process(job: ClaimedJob, context: Any) -> JobOutput | None:
    if job.kind is JobKind.PUBLISH:
        return await process_job(job, context)
    await asyncio.sleep(float(os.environ.get("GRADER_BENCH_GRADING_SECONDS", "0.5")))
    return JobOutput(score=REPORT["score"], grade=REPORT["grade"], report=REPORT, duration_seconds=0.5,
                     then_publish=True)
