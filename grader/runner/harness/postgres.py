"""The throwaway PostgreSQL of one run: the image's ready-made cluster copied into a tmpfs.

Unix socket only, fsync off (the data dies with the container anyway); the roles `student` and
`hidden` are non-superusers with a statement timeout, authenticated by their OS user (peer).
Databases of the template: `student` (the migration test), `student_tests` (the student's tests when
the rubric runs them on PostgreSQL), `probe` and `probe_models` (the hidden checks), each owned by
`student`.

The student's code can kill the server (fill its disk, exhaust its memory). That is the student's
failure of the step it happens in; before the next step that needs it the harness starts a fresh
cluster. Only a server that does not start from the template is an infrastructure failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

from .proc import BASE_PATH, Account, Outcome, run_as
from .protocol import OUTCOME_EXITED, PG_MOUNT, PG_SOCKET_DIR

PG_BIN = "/usr/lib/postgresql/15/bin"
TEMPLATE = "/opt/pg-template"
DATA_DIR = f"{PG_MOUNT}/data"
SERVER_OPTIONS = (
    "listen_addresses=", f"unix_socket_directories={PG_SOCKET_DIR}", "fsync=off", "synchronous_commit=off",
    "full_page_writes=off", "shared_buffers=32MB", "max_connections=40", "dynamic_shared_memory_type=mmap",
)
QUERY_TIMEOUT_SECONDS = 30.0


class DatabaseError(RuntimeError):
    """The harness' own query could not be answered; the message is one line."""


def database_url(role: str, database: str | None = None) -> str:
    """SQLAlchemy URL of `database` (the role's own by default) for a process of that OS user."""
    return f"postgresql+asyncpg://{role}@/{database or role}?host={PG_SOCKET_DIR}"


def dsn(role: str, database: str) -> str:
    """libpq/asyncpg DSN of `database` for a process of OS user `role`."""
    return f"postgresql://{role}@/{database}?host={PG_SOCKET_DIR}"


def start(account: Account) -> subprocess.Popen[bytes]:
    """Start the server from a fresh copy of the template, in the background; `wait_ready` before use."""
    for path, mode in ((DATA_DIR, 0o700), (PG_SOCKET_DIR, 0o755)):
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chown(path, account.uid, account.gid)
    script = f'cp -a {TEMPLATE}/. {DATA_DIR}/ && exec {PG_BIN}/postgres -D {DATA_DIR} "$@"'
    options = [arg for option in SERVER_OPTIONS for arg in ("-c", option)]
    return subprocess.Popen(
        ["/bin/sh", "-c", script, "postgres", *options], user=account.uid, group=account.gid,
        extra_groups=[], env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, process_group=0, cwd=PG_MOUNT,
    )


def wait_ready(server: subprocess.Popen[bytes], timeout: float = 30.0) -> str:
    """'' when the server accepts connections, else one line saying why it did not start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode("utf-8", "replace") if server.stderr else ""
            return f"PostgreSQL exited with {server.returncode}: {_last_line(error)}"
        if _accepting():
            return ""
        time.sleep(0.05)
    return f"PostgreSQL did not become ready within {timeout:.0f} s"


def restart(server: subprocess.Popen[bytes], account: Account) -> subprocess.Popen[bytes]:
    """A fresh cluster in place of one the student's code stopped or filled up."""
    stop(server)
    subprocess.run(["find", DATA_DIR, "-mindepth", "1", "-delete"], user=account.uid, group=account.gid,
                   extra_groups=[], env={"PATH": BASE_PATH}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60, check=False)
    return start(account)


def _accepting() -> bool:
    """pg_isready over the socket (the pid file is the server's own, 0600, unreadable here)."""
    probe = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", PG_SOCKET_DIR, "-t", "1"], check=False,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return probe.returncode == 0


def error_line(text: str) -> str:
    """psql's error message: the line saying ERROR or error, not the caret that points into the query."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")[:300]


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def stop(server: subprocess.Popen[bytes]) -> None:
    """Immediate shutdown; the cluster is thrown away with the container."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def psql(account: Account, database: str, *commands: str, timeout: float = QUERY_TIMEOUT_SECONDS,
         only_own: bool = False) -> Outcome:
    """The harness' own psql client as `account` (its role, by peer authentication): no student code
    runs in it. Query results go to the outcome's channel; errors to its output."""
    argv = [f"{PG_BIN}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PG_SOCKET_DIR, "-d", database,
            "-o", "/dev/fd/{channel}"]
    for command in commands:
        argv += ["-c", command]
    env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "HOME": account.home, "PGCONNECT_TIMEOUT": "10"}
    return run_as(account, argv, cwd="/", env=env, timeout=timeout, output_limit=65536, channel=True,
                  only_own=only_own)


def query_json(account: Account, database: str, sql: str, only_own: bool = False) -> Any:
    """The one JSON value `sql` returns (after `SET search_path = pg_catalog`); raises DatabaseError."""
    outcome = psql(account, database, "SET search_path = pg_catalog", sql, only_own=only_own)
    if outcome.kind != OUTCOME_EXITED or outcome.exit_code != 0:
        raise DatabaseError(error_line(outcome.output) or f"psql {outcome.kind}")
    if outcome.channel_overflow:
        raise DatabaseError("the database's answer was larger than the grader reads")
    try:
        return json.loads((outcome.channel or b"").decode("utf-8", "replace") or "null")
    except (ValueError, RecursionError) as exc:
        raise DatabaseError(f"unreadable answer from the database: {exc}") from None
