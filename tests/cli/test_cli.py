"""The `grader` command: schema upgrade, and one-line errors for bad settings."""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys

import pytest

from grader.cli import build_parser, main
from tests.support.servers import REPO_ROOT, service_env


def run_grader(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], env=service_env(**env), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli__db_upgrade_creates_the_schema(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    result = run_grader("db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "submissions", "deliveries", "results", "api_tokens", "alembic_version"} <= tables


def test_cli__malformed_setting_stops_with_one_line_naming_it():
    result = run_grader("serve", GRADER_WORKERS="lots")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "GRADER_WORKERS" in result.stderr


def test_cli__database_url_password_never_printed():
    result = run_grader("db", "upgrade", DATABASE_URL="mysql://user:hunter2@db/grader")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("schedule", ["as it comes", "driver thread late"])
def test_cli__unreachable_database_is_one_line_without_a_traceback(tmp_path, schedule):
    url = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db"
    command = ("-m", "grader") if schedule == "as it comes" else ("-m", "tests.support.late_sqlite_thread")
    result = subprocess.run([sys.executable, *command, "db", "upgrade"], env=service_env(DATABASE_URL=url),
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr == "grader: the database cannot be used: unable to open database file\n"


def test_cli__a_worker_command_without_workers_says_so():
    result = run_grader("worker", GRADER_WORKERS="0")
    assert result.returncode == 2
    assert result.stderr == ("grader: grader worker needs at least one worker: pass --count N or set GRADER_WORKERS "
                             "to 1 or more\n")


def _commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(*words, name), *_commands(sub, (*words, name))]
    return found


@pytest.mark.parametrize("words", _commands(build_parser()), ids=" ".join)
def test_cli__every_commands_help_ends_with_an_example(words: tuple[str, ...],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*words, "--help"])
    help_text = capsys.readouterr().out
    example = help_text.rsplit("example:\n", 1)[1].strip()
    command = re.search(r"(?:^|\s)grader (\S+)", example)
    assert command is not None
    assert command.group(1) == words[0]
