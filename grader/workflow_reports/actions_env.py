"""The files GitHub Actions gives a step: the job summary, the step outputs, workflow commands."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from grader.cli import CommandError


def _file(name: str, env: Mapping[str, str]) -> Path:
    value = env.get(name, "").strip()
    if not value:
        raise CommandError(f"{name} is not set: run this as a step of a GitHub Actions job")
    return Path(value)


def append_summary(markdown: str, env: Mapping[str, str] | None = None) -> None:
    with _file("GITHUB_STEP_SUMMARY", os.environ if env is None else env).open("a", encoding="utf-8") as out:
        out.write(markdown.rstrip("\n") + "\n\n")


def set_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> None:
    for name, value in values.items():
        if "\n" in value or "\n" in name:
            raise ValueError(f"step output {name!r} must be one line")
    with _file("GITHUB_OUTPUT", os.environ if env is None else env).open("a", encoding="utf-8") as out:
        out.writelines(f"{name}={value}\n" for name, value in values.items())


def notice(message: str) -> None:
    """A `::notice::` line: shown on the run's page; the message must be one line."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    print(f"::notice title=grader::{escaped}", flush=True)
