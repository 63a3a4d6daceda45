"""The files GitHub Actions gives a step: the job summary, the step outputs, workflow commands."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from grader.errors import CommandError
from grader.settings import ActionsSettings


def _file(path: str, name: str) -> Path:
    if not path:
        raise CommandError(f"{name} is not set: run this as a step of a GitHub Actions job")
    return Path(path)


def append_summary(markdown: str, actions: ActionsSettings) -> None:
    with _file(actions.step_summary, "GITHUB_STEP_SUMMARY").open("a", encoding="utf-8") as out:
        out.write(markdown.rstrip("\n") + "\n\n")


def set_outputs(values: Mapping[str, str], actions: ActionsSettings) -> None:
    for name, value in values.items():
        if "\n" in value or "\n" in name:
            raise ValueError(f"step output {name!r} must be one line")
    with _file(actions.output, "GITHUB_OUTPUT").open("a", encoding="utf-8") as out:
        out.writelines(f"{name}={value}\n" for name, value in values.items())


def notice(message: str) -> None:
    """A `::notice::` line: shown on the run's page; the message must be one line."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    print(f"::notice title=grader::{escaped}", flush=True)
