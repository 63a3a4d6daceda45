"""What a worker does for a job: one handler per job kind, given what the composition root built.

`process_job` is the default processor; `bind_processor` gives the workers the configured one
(`GRADER_JOB_PROCESSOR`, `module:function` taking `(job, context)`) with its context.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from grader.db.models import JobKind
from grader.github.errors import PermanentGitHubError, RetryLater
from grader.grading.report import InfrastructureError
from grader.pipeline.context import JobContext
from grader.pipeline.grading import grade_submission
from grader.pipeline.publishing import publish_outcome
from grader.queue.jobs import ClaimedJob, FinalFailure, JobOutput, Reschedule
from grader.queue.worker import JobProcessor
from grader.runner.dependencies.step import prebuild
from grader.runner.sandbox import DockerSandbox
from grader.settings import DEFAULT_JOB_PROCESSOR, SettingsError

Handler = Callable[[ClaimedJob, JobContext], Coroutine[Any, Any, JobOutput | None]]
HANDLERS: dict[JobKind, Handler] = {JobKind.GRADE: grade_submission, JobKind.PUBLISH: publish_outcome}
log = logging.getLogger("grader.pipeline")


async def process_job(job: ClaimedJob, context: JobContext) -> JobOutput | None:
    try:
        return await HANDLERS[job.kind](job, context)
    except RetryLater as exc:
        # Waiting out a rate limit is no failure: it must not use up the job's attempts.
        raise Reschedule(exc.seconds, str(exc), counts=not exc.rate_limited) from exc
    except PermanentGitHubError as exc:
        raise FinalFailure(str(exc)) from exc


def load_processor(spec: str) -> Handler:
    """The `module:function` named by GRADER_JOB_PROCESSOR (raises SettingsError when it cannot be had)."""
    module_name, _, attribute = spec.partition(":")
    try:
        function: Handler = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SettingsError(f"GRADER_JOB_PROCESSOR {spec!r} cannot be imported: {exc}") from None
    if not callable(function):
        raise SettingsError(f"GRADER_JOB_PROCESSOR {spec!r} is not a function")
    return function


def bind_processor(handler: Handler, context: JobContext) -> JobProcessor:
    """What a worker calls for each job: `handler` with the context of this process."""

    async def process(job: ClaimedJob) -> JobOutput | None:
        return await handler(job, context)

    return process


async def prepare_host(context: JobContext) -> None:
    """Before the first claim: every runner image the course uses on this host's engine (pulled on first
    use), no grading containers that dead workers left behind, and the rubrics' own dependency sets
    installed."""
    if context.settings.queue.processor != DEFAULT_JOB_PROCESSOR:
        return
    sandbox = DockerSandbox(context.settings.runner)
    with contextlib.suppress(InfrastructureError, OSError):
        for runner in context.runners():
            image = await DockerSandbox(runner).pull_if_missing()
            log.info("runner image", extra={"image": runner.image, "state": image})
        removed = await sandbox.remove_orphans()
        if removed:
            log.info("removed orphan containers", extra={"count": removed})
    await _prebuild_dependencies(context)


async def _prebuild_dependencies(context: JobContext) -> None:
    """Each rubric's own dependency set, in its assignment's image (best effort: a job would install it too)."""
    for assignment_id, rubric in [(None, context.rubric), *context.assignment_rubrics.items()]:
        sandbox = DockerSandbox(context.runner_for(assignment_id))
        with contextlib.suppress(InfrastructureError, OSError):
            built = await prebuild(rubric, sandbox, context.settings.dependencies)
            if built is not None:
                log.info("rubric dependencies ready", extra={"rubric": rubric.id, "summary": built.step.summary})
