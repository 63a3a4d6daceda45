"""What a worker does for a job. The processor is a setting so a deployment (or a test) can swap it.

`GRADER_JOB_PROCESSOR` names it as `module:function`; the default grades the submission.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import TYPE_CHECKING

from grader.queue.jobs import ClaimedJob, JobOutput

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from grader.queue.worker import JobProcessor
    from grader.settings import Settings

DEFAULT_PROCESSOR = "grader.pipeline:placeholder_grading"


async def placeholder_grading(job: ClaimedJob, settings: Settings,
                              sessionmaker: async_sessionmaker[AsyncSession]) -> JobOutput:
    """PLACEHOLDER step until the containerised run is wired in: records that nothing was graded."""
    started = time.monotonic()
    return JobOutput(score=0.0, grade="C", report={"placeholder": True, "job_id": job.id},
                     duration_seconds=time.monotonic() - started)


def load_processor(spec: str | None = None) -> JobProcessor:
    spec = spec or os.environ.get("GRADER_JOB_PROCESSOR", "").strip() or DEFAULT_PROCESSOR
    module_name, _, attribute = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"GRADER_JOB_PROCESSOR {spec!r} cannot be imported: {exc}") from None
