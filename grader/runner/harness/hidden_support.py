"""The hidden tests' side of the probe protocol, a pytest plugin (`-p grader_hidden_support`).

Fixtures:
- `student_code`: starts a process of the student's code (as the student, through the broker) and
  calls the rubric's probe operations in it: `student_code.start(env={...}).call("op", **args)`.
- `probe_databases`: the run's PostgreSQL databases for the checks, by name ("app", "models"), with
  the URL the student's code gets and queries of the hidden side's own (through psql), to see for
  itself what the student's code did.

Nothing of the hidden tests goes to the student's process but operation names and arguments; every
answer is bounded, matched to its request by a random id, and parsed defensively.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

SOCKET_ENV = "GRADER_PROBE_SOCKET"
DATABASES_ENV = "GRADER_PROBE_DATABASES"
ANSWER_LIMIT = 4 * 1024 * 1024
CALL_TIMEOUT_SECONDS = 60.0
QUERY_TIMEOUT_SECONDS = 30.0


class StudentCodeError(Exception):
    """The student's process answered with an error, did not answer, or ended."""


class StudentProcess:
    """One process of the student's code, reached through its socket."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.reader = connection.makefile("rb")

    def call(self, op: str, timeout: float = CALL_TIMEOUT_SECONDS, **args: Any) -> Any:
        nonce = secrets.token_hex(16)
        self.connection.settimeout(timeout)
        try:
            self.connection.sendall(json.dumps({"id": nonce, "op": op, "args": args}).encode() + b"\n")
            line = self.reader.readline(ANSWER_LIMIT + 1)
        except TimeoutError:
            raise StudentCodeError(f"the student's code did not answer {op} within {timeout:.0f} s") from None
        except OSError as exc:
            raise StudentCodeError(f"the student's process is gone ({exc.strerror or exc})") from None
        return _value(op, nonce, line)

    def close(self) -> None:
        self.reader.close()
        self.connection.close()


def _value(op: str, nonce: str, line: bytes) -> Any:
    if not line:
        raise StudentCodeError(f"the student's process ended during {op}")
    if len(line) > ANSWER_LIMIT:
        raise StudentCodeError(f"the answer to {op} is too large")
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):
        raise StudentCodeError(f"the answer to {op} is not readable") from None
    if not isinstance(answer, dict) or answer.get("id") != nonce:
        raise StudentCodeError(f"the answer to {op} does not belong to its request")
    if not answer.get("ok"):
        raise StudentCodeError(str(answer.get("error") or "no reason given")[:500])
    return answer.get("value")


class StudentCode:
    """Starts student processes; each is closed when the test session ends."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.started: list[StudentProcess] = []

    def start(self, env: dict[str, str] | None = None, timeout: float = CALL_TIMEOUT_SECONDS) -> StudentProcess:
        """A new process of the student's code, once it says it is ready."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(self.socket_path)
            connection.sendall(json.dumps({"env": env or {}}).encode() + b"\n")
            process = StudentProcess(connection)
            ready = process.reader.readline(1024)
        except OSError as exc:
            connection.close()
            raise StudentCodeError(f"the student's process did not start ({exc})") from None
        self.started.append(process)
        if ready.strip() != b'{"ready": true}':
            raise StudentCodeError("the student's process did not start")
        return process

    def close(self) -> None:
        for process in self.started:
            process.close()


class DatabaseError(Exception):
    """The hidden side's own query failed; the message is psql's error line."""


@dataclass(frozen=True)
class ProbeDatabase:
    name: str
    student_url: str  # what the student's code is given (DATABASE_URL)
    dsn: str  # the hidden side's own connection (a libpq URI)
    student_role: str | None  # to grant the student's code access to tables the hidden side made

    def _psql(self, script: str, params: dict[str, str]) -> str:
        """Run `script` with psql on the hidden side's own connection (a process of its own: cheaper than
        importing a driver for a handful of queries). `:'name'` in the script quotes a parameter."""
        argv = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.dsn]
        for key, value in params.items():
            argv += ["-v", f"{key}={value}"]
        done = subprocess.run(argv, input=f"SET search_path = pg_catalog;\n{script};\n", capture_output=True,
                              text=True, timeout=QUERY_TIMEOUT_SECONDS, check=False,
                              env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise DatabaseError(next((line for line in lines if "ERROR" in line), lines[-1] if lines else "psql"))
        return done.stdout

    def value(self, sql: str, **params: str) -> Any:
        """The one JSON value (a number, or `json_agg(...)`) that `sql` returns."""
        return json.loads(self._psql(sql, params).strip() or "null")

    def execute(self, *statements: str) -> None:
        self._psql(";\n".join(statements), {})

    def tables(self) -> set[str]:
        """Tables of the database (schema-qualified unless in public), as the server sees them."""
        found = self.value("SELECT COALESCE(json_agg(CASE WHEN n.nspname = 'public' THEN c.relname "
                           "ELSE n.nspname || '.' || c.relname END), '[]') FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                           "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                           "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
        return {str(name) for name in found}


def _databases() -> dict[str, ProbeDatabase]:
    raw = json.loads(os.environ.get(DATABASES_ENV, "{}"))
    return {name: ProbeDatabase(name=name, student_url=entry["student_url"], dsn=entry["dsn"],
                                student_role=entry.get("student_role")) for name, entry in raw.items()}


@pytest.fixture(scope="session")
def student_code() -> Iterator[StudentCode]:
    path = os.environ.get(SOCKET_ENV, "")
    if not path:
        pytest.fail("the grader gave no way to start the student's code", pytrace=False)
    launcher = StudentCode(path)
    yield launcher
    launcher.close()


@pytest.fixture(scope="session")
def probe_databases() -> dict[str, ProbeDatabase]:
    databases = _databases()
    if not databases:
        pytest.fail("the grader gave no PostgreSQL databases to the hidden checks", pytrace=False)
    return databases
