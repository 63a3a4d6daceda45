"""The `grader` command: the parser, and the one place a command's failure becomes one line on stderr.

Settings are read here, once; each command module gets them and builds what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError

from grader import __version__
from grader.db.errors import unusable_reason
from grader.errors import CommandError
from grader.grading.rubric_loader import RubricError
from grader.settings import Settings, SettingsError, load_settings

Command = Callable[[argparse.Namespace, Settings], int]


def _lazy(module: str, function: str) -> Command:
    """A command of `grader.commands`, imported only when it runs (so `grader --help` stays fast)."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        command: Command = getattr(importlib.import_module(f"grader.commands.{module}"), function)
        return command(args, settings)

    return run


def _report_and_event(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", required=True, help="the JSON printed by `grader check --format json`")
    parser.add_argument("--event", required=True, help="the event file ($GITHUB_EVENT_PATH)")


def _service_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the web service and its workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_lazy("service", "serve_command"))

    worker = commands.add_parser("worker", help="run grading workers only")
    worker.add_argument("--count", type=int, default=None, help="number of workers (default: GRADER_WORKERS)")
    worker.set_defaults(run=_lazy("service", "worker_command"))

    database = commands.add_parser("db", help="the service's own database")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(
        run=_lazy("database", "upgrade_command"))

    token = commands.add_parser("token", help="instructor API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token, printed once")
    create.add_argument("name")
    create.add_argument("--scope", choices=["read", "write"], default="read",
                        help="read (default): the API's reads and the dashboard; write: also overrides, "
                             "regrades and extensions")
    create.set_defaults(run=_lazy("tokens", "create_token_command"))
    revoke = token_commands.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name")
    revoke.set_defaults(run=_lazy("tokens", "revoke_token_command"))


def _course_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roster = commands.add_parser("roster", help="the course roster")
    roster_commands = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    imported = roster_commands.add_parser("import", help="add or update students from a CSV file "
                                                         "(columns github,student_id,name,email)")
    imported.add_argument("file")
    imported.set_defaults(run=_lazy("course", "roster_import_command"))

    extension = commands.add_parser("extension", help="per-student deadline extensions")
    extension_commands = extension.add_subparsers(dest="extension_command", required=True, metavar="ACTION")
    grant = extension_commands.add_parser("grant", help="give a student their own deadline for an assignment")
    grant.add_argument("assignment")
    grant.add_argument("login")
    grant.add_argument("until", help="ISO 8601 with a zone (2026-12-12T23:59:00+03:00), or a date (end of day)")
    grant.set_defaults(run=_lazy("course", "extension_grant_command"))


def _grading_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="grade a local checkout in a container")
    check.add_argument("path")
    check.add_argument("--rubric", default=None, help="rubric TOML file (default: GRADER_RUBRIC or the built-in)")
    check.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    check.add_argument("--public", action="store_true",
                       help="grade only the public checks (no hidden tests, no quiz key), as in a student's own "
                            "repository; the rest is left to the service")
    check.set_defaults(run=_lazy("check", "check_command"))

    image = commands.add_parser("image", help="the runner image")
    image_commands = image.add_subparsers(dest="image_command", required=True, metavar="ACTION")
    build = image_commands.add_parser("build", help="build the runner image (or the service's)")
    build.add_argument("--base", default=None, help="base image (default: the Dockerfile's python slim image)")
    build.add_argument("--rubric", default=None, help="rubric whose package list goes into the image")
    build.add_argument("--tag", default=None, help="image tag (default: GRADER_IMAGE for the runner)")
    build.add_argument("--target", choices=["runner", "service"], default="runner",
                       help="runner: the grading sandbox; service: grader serve / grader worker with a docker client")
    build.set_defaults(run=_lazy("image", "image_build_command"))

    rubric = commands.add_parser("rubric", help="rubric files")
    rubric_commands = rubric.add_subparsers(dest="rubric_command", required=True, metavar="ACTION")
    check_rubric = rubric_commands.add_parser("check", help="validate rubrics with their hidden tests and quiz key")
    check_rubric.add_argument("files", nargs="+", metavar="FILE")
    check_rubric.set_defaults(run=_lazy("rubric", "rubric_check_command"))

    quiz = commands.add_parser("quiz", help="the rubric's quiz")
    quiz_commands = quiz.add_subparsers(dest="quiz_command", required=True, metavar="ACTION")
    render = quiz_commands.add_parser("render", help="print the quiz page for students (never the key)")
    render.add_argument("file", metavar="RUBRIC", help="a rubric TOML file with a [quiz] table")
    render.set_defaults(run=_lazy("rubric", "quiz_render_command"))


def _workflow_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`grader publish` and `grader workflow summary|send`: steps of the reusable workflow."""
    publish = commands.add_parser("publish", help="post or edit the PR comment from a report (in Actions)")
    _report_and_event(publish)
    publish.set_defaults(run=_lazy("workflow", "publish_command"))

    workflow = commands.add_parser("workflow", help="steps of the reusable GitHub Actions workflow")
    steps = workflow.add_subparsers(dest="workflow_command", required=True, metavar="STEP")
    summary = steps.add_parser("summary", help="job summary and score/grade step outputs")
    _report_and_event(summary)
    summary.set_defaults(run=_lazy("workflow", "summary_command"))
    send = steps.add_parser("send", help="send the report to the service with the run's OIDC token")
    _report_and_event(send)
    send.add_argument("--service-url", required=True)
    send.set_defaults(run=_lazy("workflow", "send_command"))


# An example for every command's --help, by the words that name it.
EXAMPLES: dict[str, str] = {
    "serve": "grader serve --host 0.0.0.0 --port 8000",
    "worker": "DATABASE_URL=postgresql+asyncpg://grader:PW@db/grader grader worker --count 2",
    "db": "grader db upgrade",
    "db upgrade": "DATABASE_URL=postgresql+asyncpg://grader:PW@db/grader grader db upgrade",
    "token": "grader token create alice --scope write",
    "token create": "grader token create teaching-assistant --scope read",
    "token revoke": "grader token revoke teaching-assistant",
    "roster": "grader roster import students.csv",
    "roster import": "grader roster import students.csv    # columns: github,student_id,name,email",
    "extension": "grader extension grant hw1 octocat 2026-12-14",
    "extension grant": "grader extension grant hw1 octocat 2026-12-14T23:59:00+03:00",
    "check": "grader check ./my-submission --format json",
    "image": "grader image build --base grader-base:bookworm",
    "image build": "grader image build --rubric rubric/sqlalchemy-async.toml --tag grader-runner:hw1",
    "rubric": "grader rubric check rubric/*.toml",
    "rubric check": "grader rubric check rubric/sqlalchemy-async.toml",
    "quiz": "grader quiz render rubric/sqlalchemy-async.toml > QUIZ.md",
    "quiz render": "grader quiz render rubric/sqlalchemy-async.toml > QUIZ.md",
    "publish": 'grader publish --report grader-report.json --event "$GITHUB_EVENT_PATH"',
    "workflow": 'grader workflow summary --report grader-report.json --event "$GITHUB_EVENT_PATH"',
    "workflow summary": 'grader workflow summary --report grader-report.json --event "$GITHUB_EVENT_PATH"',
    "workflow send": ('grader workflow send --report grader-report.json --event "$GITHUB_EVENT_PATH" '
                      "--service-url https://grader.example.edu"),
}


def _add_examples(parser: argparse.ArgumentParser, words: str = "") -> None:
    """Give every sub-command's --help its example (EXAMPLES), depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = f"{words} {name}".strip()
                sub.epilog = f"example:\n  {EXAMPLES[path]}"
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
                _add_examples(sub, path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Autograding of GitHub pull requests.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _service_commands(commands)
    _course_commands(commands)
    _grading_commands(commands)
    _workflow_commands(commands)
    _add_examples(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, load_settings()))
    except (SettingsError, CommandError, RubricError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except (DBAPIError, ConnectionError) as exc:
        print(f"grader: {unusable_reason(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
