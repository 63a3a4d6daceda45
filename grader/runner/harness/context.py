"""What every step is given: the run's config, its users (with this step's scratch folders), the
run's wall clock and the throwaway PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import layout, postgres
from .proc import Account, Dialog, Outcome, minimal_env, run_as
from .protocol import OUTPUT_TAIL_CHARS, PG_SOCKET_DIR, SUBMISSION_DIR

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
TESTS_DATABASE = "student_tests"  # the student's tests' own database when the rubric runs them on PostgreSQL


@dataclass
class Context:
    config: dict[str, Any]
    student: Account
    hidden: Account
    postgres_account: Account
    deadline: float  # the whole run's wall clock
    server: subprocess.Popen[bytes] | None = None
    postgres_error: str | None = None  # None: not checked yet; "": ready; else why it cannot be used
    expected_hidden: tuple[str, ...] = ()  # the hidden tests, listed before any student code ran

    def timeout(self) -> float:
        return min(float(self.config["step_timeout"]), self.deadline - time.monotonic())

    def python_paths(self) -> list[str]:
        return [os.path.join(SUBMISSION_DIR, path) for path in self.config.get("python_paths", [])]

    def source_roots(self) -> list[str]:
        """The rubric's folders, each with its package root (pytest's rule): both import spellings work."""
        return layout.source_roots(SUBMISSION_DIR, self.python_paths())

    def scan_layout(self, mode: str, *args: str, also: tuple[str, ...] = ()) -> tuple[list[str], list[str] | None]:
        """What the student's files need for `mode` ("tests" or "migrations"): the folders for
        PYTHONPATH and the student's pytest addopts without pytest-cov's options (None: nothing to take
        out), found by `layout.py` reading them in a process of the student's, never as root. The
        rubric's folders (with their package roots) and `also` come first."""
        known = list(dict.fromkeys([*self.source_roots(), *also]))
        argv = ["python", "-I", "-B", os.path.join(HARNESS_DIR, "layout.py"), mode, SUBMISSION_DIR,
                json.dumps(known), *args]
        outcome = self.run(self.student, argv, SUBMISSION_DIR, timeout=min(self.timeout(), 60.0), tail_chars=20_000)
        try:
            found = json.loads(outcome.output.strip().splitlines()[-1])
        except (ValueError, IndexError, RecursionError):
            found = None
        if not isinstance(found, dict):
            return known, None
        paths = [path for path in found.get("paths") or [] if isinstance(path, str) and path.startswith(SUBMISSION_DIR)]
        addopts = found.get("addopts")
        kept = [str(token) for token in addopts] if isinstance(addopts, list) else None
        return paths or known, kept

    def student_env(self, database: str) -> dict[str, str]:
        """The rubric's `[runner.env]` for a process of the student's, its placeholders filled for
        `database` (a PostgreSQL database of the student's role, or "" for the SQLite file of the
        student's tests)."""
        name = self.student.name
        values = {"postgres_host": PG_SOCKET_DIR, "postgres_port": "5432", "postgres_user": name,
                  "postgres_db": database or TESTS_DATABASE,
                  "postgres_url": postgres.database_url(name, database or TESTS_DATABASE)}
        values["database_url"] = values["postgres_url"] if database else \
            f"sqlite+aiosqlite:///{self.student.home}/grader-tests.db"
        return render_env(dict(self.config.get("env") or {}), values)

    def probe_env(self, database: str) -> dict[str, str]:
        """The rubric's environment for the student's side of the hidden checks: the student's modules
        the probe imports read the same settings. The database is the hidden tests' choice (entries
        holding `{database_url}` stay out), and so are pytest's variables."""
        template = dict(self.config.get("env") or {})
        return {key: value for key, value in self.student_env(database).items()
                if "{database_url}" not in template[key] and not key.startswith("PYTEST_")}

    def run(self, account: Account, argv: list[str], cwd: str, env: Mapping[str, str] | None = None, *,
            timeout: float | None = None, channel: bool = False, tail_chars: int = OUTPUT_TAIL_CHARS,
            dialog: Dialog | None = None) -> Outcome:
        return run_as(account, argv, cwd=cwd, env=minimal_env(account, **(env or {})),
                      timeout=self.timeout() if timeout is None else timeout,
                      output_limit=int(self.config["output_limit"]), channel=channel, tail_chars=tail_chars,
                      dialog=dialog)

    def postgres_ready(self, reset: Callable[[], bool] = lambda: True) -> str:
        """'' when the server takes connections and `reset` (emptying what a step needs empty) worked.
        A server the student's code stopped or filled up is replaced by a fresh one; only a fresh one
        that does not start, or cannot be reset, is an error (the infrastructure's)."""
        if self.server is None:
            return "PostgreSQL is not part of this run"
        if self.server.poll() is None and not postgres.wait_ready(self.server, timeout=10.0) and reset():
            return ""
        self.server = postgres.restart(self.server, self.postgres_account)
        self.postgres_error = postgres.wait_ready(self.server)
        if not self.postgres_error and not reset():
            self.postgres_error = "a fresh PostgreSQL could not be prepared"
        return self.postgres_error


def render_env(template: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """`{name}` placeholders replaced by their values; anything else is left as written."""
    rendered = {}
    for key, value in template.items():
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        rendered[key] = value
    return rendered
