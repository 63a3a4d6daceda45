"""What every step is given: the run's config, its users (with this step's scratch folders), the
run's wall clock and the throwaway PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import postgres
from .proc import Account, Outcome, minimal_env, run_as
from .protocol import OUTPUT_TAIL_CHARS, SUBMISSION_DIR


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

    def run(self, account: Account, argv: list[str], cwd: str, env: Mapping[str, str] | None = None, *,
            timeout: float | None = None, channel: bool = False, tail_chars: int = OUTPUT_TAIL_CHARS) -> Outcome:
        return run_as(account, argv, cwd=cwd, env=minimal_env(account, **(env or {})),
                      timeout=self.timeout() if timeout is None else timeout,
                      output_limit=int(self.config["output_limit"]), channel=channel, tail_chars=tail_chars)

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
