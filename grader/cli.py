"""The `grader` command. Each sub-command reports a failure as one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError

from grader.settings import Settings, SettingsError, load_settings


class CommandError(Exception):
    """A command could not do its job; the message is the one line shown to the user."""


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from grader.app import create_app
    from grader.db.schema import upgrade_to_head
    from grader.logs import configure_logging

    configure_logging()
    upgrade_to_head(settings.database.url)
    app = create_app(settings)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic collector, whose
    # full passes over it otherwise show up as 50-70 ms stalls in request latency.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=60)
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from grader.db.engine import make_engine, make_sessionmaker
    from grader.logs import configure_logging
    from grader.queue.worker import run_workers

    configure_logging()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        engine = make_engine(settings.database)
        try:
            await run_workers(make_sessionmaker(engine), settings, stop, count=args.count)
        finally:
            await engine.dispose()

    asyncio.run(main())
    return 0


def _db_upgrade(_: argparse.Namespace, settings: Settings) -> int:
    from grader.db.schema import upgrade_to_head

    upgrade_to_head(settings.database.url)
    print("database schema is up to date")
    return 0


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace, Settings], int]:
    """A command implemented in another part of the package, imported only when it runs."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        import importlib

        return getattr(importlib.import_module(module), function)(args, settings)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Autograding of GitHub pull requests.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web service and its workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run grading workers only")
    worker.add_argument("--count", type=int, default=None, help="number of workers (default: GRADER_WORKERS)")
    worker.set_defaults(run=_worker)

    database = commands.add_parser("db", help="the service's own database")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(run=_db_upgrade)

    check = commands.add_parser("check", help="grade a local checkout in a container")
    check.add_argument("path")
    check.add_argument("--rubric", default=None, help="rubric TOML file (default: GRADER_RUBRIC or the built-in)")
    check.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    check.set_defaults(run=_lazy("grader.runner.commands", "check_command"))

    image = commands.add_parser("image", help="the runner image")
    image_commands = image.add_subparsers(dest="image_command", required=True, metavar="ACTION")
    build = image_commands.add_parser("build", help="build the runner image")
    build.add_argument("--base", default=None, help="base image (default: the Dockerfile's python slim image)")
    build.add_argument("--rubric", default=None, help="rubric whose package list goes into the image")
    build.add_argument("--tag", default=None, help="image tag (default: GRADER_IMAGE)")
    build.set_defaults(run=_lazy("grader.runner.commands", "image_build_command"))

    token = commands.add_parser("token", help="instructor API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token, printed once")
    create.add_argument("name")
    create.set_defaults(run=_lazy("grader.api.tokens", "create_token_command"))
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name")
    revoke.set_defaults(run=_lazy("grader.api.tokens", "revoke_token_command"))

    from grader.workflow_reports.cli import add_workflow_commands

    add_workflow_commands(commands, _lazy)
    return parser


def _first_line(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's statement dump (which could hold values)."""
    origin = getattr(exc, "orig", None) or exc
    return (str(origin).strip().splitlines() or [type(origin).__name__])[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, load_settings())
    except (SettingsError, CommandError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        print(f"grader: the database cannot be used: {_first_line(exc)}", file=sys.stderr)
        return 1
    except ConnectionError as exc:
        print(f"grader: cannot connect: {_first_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
