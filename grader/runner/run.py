"""Run the checks on a checkout: pack it, run the harness in the sandbox, assemble the report.

The runner only runs: what the report is worth is for `grader.grading` to say.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.grading.report import Report
from grader.grading.rubric import Rubric
from grader.runner.assemble import assemble, rejected_report
from grader.runner.dependencies.step import STEP_ID, install_dependencies
from grader.runner.harness.protocol import EVENT_RESULT, EVENT_START, parse_event
from grader.runner.sandbox import DockerSandbox
from grader.runner.workspace import SubmissionRejected, pack
from grader.settings import DependencySettings, RunnerSettings

Progress = Callable[[str], None]
POSTGRES_STEPS = ("tests", "hidden_tests", "migrations")  # the steps that may use the run's PostgreSQL
OUTCOME_WORDS = {"exited": "finished", "timeout": "stopped at the time limit", "oom": "stopped: out of memory",
                 "not_run": "not run", "error": "could not run"}


def harness_config(rubric: Rubric, settings: RunnerSettings) -> dict[str, Any]:
    """What the harness needs to know; the rubric's quiz key and file paths stay out of it."""
    lint = rubric.lint
    return {"lint": {"select": list(lint.select), "ignore": list(lint.ignore), "line_length": lint.line_length,
                     "noqa": lint.noqa, "exclude": list(lint.exclude),
                     "settings": [f"{key} = {toml_value(value)}" for key, value in lint.settings]},
            "coverage_pragmas": rubric.coverage_pragmas,
            "python_paths": list(rubric.python_paths), "step_timeout": settings.step_timeout_seconds,
            "run_timeout": settings.run_timeout_seconds, "output_limit": settings.output_limit_bytes,
            "env": dict(rubric.environment.env), "tests_database": rubric.environment.tests_database,
            "hidden_package": rubric.hidden_package, "steps": list(rubric.step_ids), "commands": _commands(rubric),
            "postgres": any(step in POSTGRES_STEPS for step in rubric.step_ids)}


def _commands(rubric: Rubric) -> dict[str, dict[str, Any]]:
    """Each command step: what it runs, for how long at most, and the results files its checks read."""
    return {step: {"argv": list(spec.argv), "timeout": spec.timeout_seconds, "files": list(rubric.command_files[step])}
            for step, spec in rubric.commands.items()}


def toml_value(value: object) -> str:
    """A TOML value for ruff's `--config KEY = VALUE` (strings, numbers, booleans, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"not a TOML value: {value!r}")


def _progress_printer(progress: Progress) -> Callable[[str], None]:
    def on_line(line: str) -> None:
        event = parse_event(line)
        if event is None:
            return
        if event["event"] == EVENT_START:
            progress(f"{event.get('step')}: running")
        elif event["event"] == EVENT_RESULT:
            outcome = OUTCOME_WORDS.get(str(event.get("outcome")), str(event.get("outcome")))
            progress(f"{event.get('step')}: {outcome} in {float(event.get('duration_seconds', 0)):.1f} s")

    return on_line


async def run_checks(checkout: Path, rubric: Rubric, settings: RunnerSettings,
                     progress: Progress | None = None, dependencies: DependencySettings | None = None) -> Report:
    """The report of one containerised run, with its provenance (raises `InfrastructureError` when it
    could not run)."""
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    sandbox = DockerSandbox(settings)
    digest = await sandbox.image_digest()
    try:
        hidden = rubric.hidden_tests_dir if rubric.hidden_tests_dir and rubric.hidden_tests_dir.is_dir() else None
        size_limit = min(settings.max_checkout_bytes, settings.tmpfs_mb * 2**20 // 2)
        archive = await asyncio.to_thread(pack, checkout, harness_config(rubric, settings), hidden, size_limit,
                                          rubric.probe_path, rubric.public_files)
    except SubmissionRejected as exc:
        report = rejected_report(f"submission rejected: {exc}", rubric.step_ids)
    else:
        installs = rubric.dependencies.policy != "image"
        if progress and installs:
            progress(f"{STEP_ID}: running")
        deps = await install_dependencies(checkout, rubric, sandbox, dependencies or DependencySettings(), digest)
        if progress and installs:
            progress(f"{STEP_ID}: {deps.step.summary}")
        on_line = _progress_printer(progress) if progress else None
        run = await sandbox.run(archive, on_line, deps.mount)
        report = assemble(run, settings.output_limit_bytes, rubric.step_ids, rubric.command_files)
        report.steps.insert(0, deps.step)
        report.dependencies = deps.report
    report.image_digest = digest
    report.rubric_sha256 = rubric.sha256
    report.started_at = started_at
    report.duration_seconds = round(time.monotonic() - started, 3)
    return report
