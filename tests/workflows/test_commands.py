"""The workflow commands' pure parts: event files, reports, the Actions files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import CommandError, main
from grader.grade import grade_to_dict
from grader.workflow_reports.actions_env import append_summary, notice, set_outputs
from grader.workflow_reports.event import read_event, read_result
from tests.feedback.factories import passing_result
from tests.workflows.conftest import pull_request_event

SHA = "3" * 40


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_read_event__same_repository_is_not_a_fork(tmp_path: Path) -> None:
    run = read_event(_write(tmp_path / "event.json", pull_request_event(SHA)))

    assert (run.repo, run.number, run.head_sha, run.is_fork) == ("Codertocat/Hello-World", 2, SHA, False)


def test_read_event__deleted_fork_counts_as_a_fork(tmp_path: Path) -> None:
    event = pull_request_event(SHA)
    event["pull_request"]["head"]["repo"] = None

    assert read_event(_write(tmp_path / "event.json", event)).is_fork


def test_read_event__push_event_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "event.json", {"ref": "refs/heads/main", "repository": {"full_name": "a/b"}})

    with pytest.raises(CommandError) as caught:
        read_event(path)

    assert str(caught.value).startswith(f"{path} is not a pull_request event: Object missing required field")


def test_read_result__text_output_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("grade C, score 38\n")

    with pytest.raises(CommandError, match=r"is not the JSON of `grader check --format json`"):
        read_result(path)


def test_read_result__missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot read the report .*missing\.json: No such file"):
        read_result(tmp_path / "missing.json")


def test_actions_files__outside_actions_the_error_says_so() -> None:
    with pytest.raises(CommandError, match=r"^GITHUB_OUTPUT is not set: run this as a step of a GitHub"):
        set_outputs({"grade": "A"}, env={})


def test_actions_files__outputs_and_summary_are_appended(tmp_path: Path) -> None:
    env = {"GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    set_outputs({"score": "80"}, env)
    set_outputs({"grade": "A"}, env)
    append_summary("first", env)
    append_summary("second\n", env)

    assert (tmp_path / "out").read_text() == "score=80\ngrade=A\n"
    assert (tmp_path / "summary").read_text() == "first\n\nsecond\n\n"


def test_notice__escapes_newlines_into_one_workflow_command(capsys: pytest.CaptureFixture[str]) -> None:
    notice("two\nlines 100%")

    assert capsys.readouterr().out == "::notice title=grader::two%0Alines 100%25\n"


def test_cli__summary_outside_actions_exits_2_with_one_line(tmp_path: Path, monkeypatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    report = _write(tmp_path / "report.json", grade_to_dict(passing_result("en")))
    event = _write(tmp_path / "event.json", pull_request_event(SHA))

    assert main(["workflow", "summary", "--report", str(report), "--event", str(event)]) == 2
    assert capsys.readouterr().err == (
        "grader: GITHUB_STEP_SUMMARY is not set: run this as a step of a GitHub Actions job\n")
