"""The argument parsers of the workflow's commands, hooked into `grader` by `grader.cli`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

COMMANDS = "grader.workflow_reports.commands"


def _report_and_event(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", required=True, help="the JSON printed by `grader check --format json`")
    parser.add_argument("--event", required=True, help="the event file ($GITHUB_EVENT_PATH)")


def add_workflow_commands(commands: Any, lazy: Callable[[str, str], Any]) -> None:
    """`grader publish` and `grader workflow summary|send`: steps of the reusable workflow."""
    publish = commands.add_parser("publish", help="post or edit the PR comment from a report (in Actions)")
    _report_and_event(publish)
    publish.set_defaults(run=lazy(COMMANDS, "publish_command"))

    workflow = commands.add_parser("workflow", help="steps of the reusable GitHub Actions workflow")
    steps = workflow.add_subparsers(dest="workflow_command", required=True, metavar="STEP")
    summary = steps.add_parser("summary", help="job summary and score/grade step outputs")
    _report_and_event(summary)
    summary.set_defaults(run=lazy(COMMANDS, "summary_command"))
    send = steps.add_parser("send", help="send the report to the service with the run's OIDC token")
    _report_and_event(send)
    send.add_argument("--service-url", required=True)
    send.set_defaults(run=lazy(COMMANDS, "send_command"))
