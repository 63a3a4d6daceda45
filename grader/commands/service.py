"""`grader serve` and `grader worker`: the web service with its workers, or workers alone.

Both are composition roots: they load the rubric, and with a course file every assignment's, at start
(a broken one stops them with one line) and build what the workers need from the settings.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

from grader.db.engine import database
from grader.db.schema import upgrade_to_head
from grader.github.client import GitHubClient
from grader.grading.rubric_loader import load_rubric_set
from grader.logs import configure_logging
from grader.pipeline import bind_processor, load_processor, prepare_host
from grader.pipeline.context import JobContext
from grader.queue.worker import run_workers
from grader.settings import Settings


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from grader.app import create_app

    rubrics = load_rubric_set(settings)
    configure_logging()
    upgrade_to_head(settings.database.url)
    app = create_app(settings, rubrics)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic collector, whose
    # full passes over it otherwise show up as 50-70 ms stalls in request latency.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=60)
    return 0


def worker_command(args: argparse.Namespace, settings: Settings) -> int:
    rubrics = load_rubric_set(settings)
    handler = load_processor(settings.queue.processor)
    configure_logging()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with database(settings.database) as sessionmaker:
            context = JobContext(settings, sessionmaker, rubrics.default, GitHubClient(settings.github),
                                 rubrics.by_assignment)
            await prepare_host(context)
            await run_workers(sessionmaker, settings, stop, bind_processor(handler, context), count=args.count)

    asyncio.run(main())
    return 0
