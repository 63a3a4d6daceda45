"""`grader serve` and `grader worker`: the web service with its workers, or workers alone.

Both are composition roots: they load the rubric, and with a course file every assignment's, at start
(a broken one stops them with one line) and build what the workers need from the settings.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import logging
import signal

from grader.commands.startup import startup_lines
from grader.dashboard.secret import load_or_create_secret
from grader.db.engine import database
from grader.db.migrate_process import MigrationFailed, upgrade_in_child
from grader.errors import CommandError
from grader.github.client import GitHubClient
from grader.grading.rubric_loader import load_rubric_set
from grader.logs import configure_logging
from grader.pipeline import bind_processor, load_processor, prepare_host
from grader.pipeline.context import JobContext
from grader.queue.worker import run_workers
from grader.settings import Settings


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    from grader.app import create_app
    from grader.server import run_server

    rubrics = load_rubric_set(settings)
    configure_logging()
    settings = with_session_secret(settings)
    try:
        upgrade_in_child(settings.database.url)
    except MigrationFailed as exc:
        raise CommandError(str(exc)) from None
    app = create_app(settings, rubrics)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic collector, whose
    # full passes over it otherwise show up as 50-70 ms stalls in request latency.
    gc.collect()
    gc.freeze()
    summary = "\n".join(startup_lines(settings, rubrics, args.host, args.port))
    run_server(app, settings.http, args.host, args.port, on_started=lambda: print(summary, flush=True))
    return 0


def with_session_secret(settings: Settings) -> Settings:
    """`settings` with the dashboard's session secret: the configured one, or the one kept in its file."""
    if settings.session.secret:
        return settings
    path = settings.session.secret_file
    created = not path.exists()
    secret = load_or_create_secret(path)
    if created:
        logging.getLogger("grader.dashboard").info("session secret generated", extra={"path": str(path)})
    return dataclasses.replace(settings, session=dataclasses.replace(settings.session, secret=secret))


def worker_command(args: argparse.Namespace, settings: Settings) -> int:
    count = args.count if args.count is not None else settings.queue.workers
    if count < 1:
        raise CommandError("grader worker needs at least one worker: pass --count N or set GRADER_WORKERS to 1 or more")
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
            await run_workers(sessionmaker, settings, stop, bind_processor(handler, context), count=count)

    asyncio.run(main())
    return 0
