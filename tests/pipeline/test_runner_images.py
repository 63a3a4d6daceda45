"""Which runner image a job grades in: the course file's for its assignment, else its rubric's, else
the configured one; a worker prepares each of them once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from grader.course.config import load_course
from grader.github.client import GitHubClient
from grader.grading.rubric_loader import load_rubric
from grader.pipeline.context import JobContext
from grader.settings import RunnerSettings
from tests.conftest import make_settings, shipped_rubric

ROOT = Path(__file__).resolve().parents[2]


def context_with(tmp_path: Path, hw1_image: str) -> JobContext:
    course_file = tmp_path / "course.toml"
    course_file.write_text(f"""[course]
id = "c"
[[assignments]]
id = "hw1"
title = "SQLAlchemy"
rubric = "{ROOT / 'rubric' / 'sqlalchemy-async.toml'}"
repositories = ["org/hw1-*"]
image = "{hw1_image}"
[[assignments]]
id = "fe"
title = "Front end"
rubric = "{ROOT / 'rubric' / 'frontend-vitest.toml'}"
repositories = ["org/fe-*"]
""")
    settings = make_settings(course=load_course(course_file), runner=RunnerSettings(image="grader-runner:latest"))
    frontend = load_rubric(ROOT / "rubric" / "frontend-vitest.toml")
    return JobContext(settings, None, shipped_rubric(), GitHubClient(settings.github),  # type: ignore[arg-type]
                      assignment_rubrics={"hw1": shipped_rubric(), "fe": frontend})


def test_runner_for__course_image_then_rubric_image_then_configured(tmp_path: Path) -> None:
    context = context_with(tmp_path, "grader-runner:hw1")
    assert context.runner_for("hw1").image == "grader-runner:hw1"
    assert context.runner_for("fe").image == "grader-runner:frontend"
    assert context.runner_for(None).image == "grader-runner:latest"
    assert context.runner_for("unknown").image == "grader-runner:latest"


def test_runners__each_image_once_with_the_same_limits(tmp_path: Path) -> None:
    context = context_with(tmp_path, "")
    runners = context.runners()
    assert [runner.image for runner in runners] == ["grader-runner:latest", "grader-runner:frontend"]
    assert {replace(runner, image="") for runner in runners} == {replace(context.settings.runner, image="")}
