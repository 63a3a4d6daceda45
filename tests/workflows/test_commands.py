"""The workflow commands' pure parts: event files, reports, the Actions files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.actions.actions_env import append_summary, notice, set_outputs
from grader.actions.event import read_event, read_result
from grader.cli import main
from grader.commands import workflow as commands
from grader.errors import CommandError
from grader.grading.result import grade_to_dict
from grader.settings import ActionsSettings
from tests.conftest import FAKE_GITHUB_TOKEN
from tests.fakegithub.server import BOT, FakeGitHub
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
        set_outputs({"grade": "A"}, ActionsSettings())


def test_actions_files__outputs_and_summary_are_appended(tmp_path: Path) -> None:
    actions = ActionsSettings(output=str(tmp_path / "out"), step_summary=str(tmp_path / "summary"))
    set_outputs({"score": "80"}, actions)
    set_outputs({"grade": "A"}, actions)
    append_summary("first", actions)
    append_summary("second\n", actions)

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


@pytest.fixture
def actions_env(tmp_path: Path, fake_github: FakeGitHub, monkeypatch) -> Path:
    """The environment of the comment job, pointed at the fake GitHub."""
    summary = tmp_path / "summary.md"
    for name, value in {"GITHUB_API_URL": fake_github.base_url, "GITHUB_TOKEN": FAKE_GITHUB_TOKEN,
                        "GRADER_COMMENT_AUTHOR": BOT["login"], "GITHUB_STEP_SUMMARY": str(summary)}.items():
        monkeypatch.setenv(name, value)
    fake_github.pulls[("Codertocat/Hello-World", 2)] = SHA
    return summary


def test_cli__publish_retries_a_server_error_then_comments_once(tmp_path: Path, actions_env: Path,
                                                               fake_github: FakeGitHub, monkeypatch) -> None:
    monkeypatch.setattr(commands, "MAX_RETRY_WAIT_SECONDS", 0.0)
    fake_github.inject("issues/list-comments", 502)
    report = _write(tmp_path / "report.json", grade_to_dict(passing_result("en")))
    event = _write(tmp_path / "event.json", pull_request_event(SHA))

    assert main(["publish", "--report", str(report), "--event", str(event)]) == 0
    assert len(fake_github.comments_on("Codertocat/Hello-World", 2)) == 1


def test_cli__publish_to_a_missing_pull_request_fails_with_one_line(tmp_path: Path, actions_env: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    report = _write(tmp_path / "report.json", grade_to_dict(passing_result("en")))
    event = pull_request_event(SHA)
    event["number"] = event["pull_request"]["number"] = 404
    event_path = _write(tmp_path / "event.json", event)

    assert main(["publish", "--report", str(report), "--event", str(event_path)]) == 2
    assert capsys.readouterr().err == "grader: GitHub refused the request (404): Not Found\n"
