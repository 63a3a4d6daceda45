"""Starts the student's side of the hidden checks on request: the one door from the hidden tests to the
student's code.

It runs as root (it must start processes as the student) in a process of its own, for as long as the
hidden tests run, and listens on a Unix socket only the hidden user can reach. Each connection asks
for one student process, with a few allowed environment variables; the broker starts the driver
(`driver.py`) as the student with that connection as the driver's only channel and steps aside: the
hidden tests and the student's process then talk directly, one JSON line each way, and the student's
process can read neither the hidden tests nor anything of the hidden user's.

Standard library only: `python -I -B -c "...serve(config)"` with the harness' parent on sys.path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from .protocol import BOOTSTRAP

ALLOWED_ENV = frozenset({"DATABASE_URL"})
MAX_DRIVERS = 32
REQUEST_LIMIT = 64 * 1024
DRIVER_FD_ENV = "GRADER_DRIVER_FD"
PROBE_ENV = "GRADER_PROBE"
PATHS_ENV = "GRADER_STUDENT_PATHS"
ALIASES_ENV = "GRADER_STUDENT_ALIASES"


def driver_argv(python: str) -> list[str]:
    """Loads driver.py by its path: the harness' folder never goes on the student's sys.path."""
    return [python, "-B", "-c", BOOTSTRAP, os.path.join(os.path.dirname(os.path.abspath(__file__)), "driver.py")]


def _read_request(connection: socket.socket) -> dict[str, Any]:
    connection.settimeout(10.0)
    data = b""
    while b"\n" not in data:
        chunk = connection.recv(4096)
        if not chunk or len(data) > REQUEST_LIMIT:
            raise ValueError("no complete request")
        data += chunk
    request = json.loads(data.split(b"\n", 1)[0])
    if not isinstance(request, dict):
        raise ValueError("the request is not an object")
    return request


def driver_env(config: dict[str, Any], request: dict[str, Any], fd: int) -> dict[str, str]:
    """A minimal environment, the rubric's `[runner.env]` (set by the harness), the allowed variables of
    the request, and where the driver finds its parts."""
    account = config.get("account") or {}
    env = {"PATH": config["path"], "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
           "HOME": config["home"], "TMPDIR": config["tmp"], "USER": str(account.get("name", ""))}
    env.update({str(key): str(value) for key, value in (config.get("env") or {}).items() if str(key) not in env})
    requested = request.get("env") or {}
    if isinstance(requested, dict):
        env.update({key: value for key, value in requested.items()
                    if key in ALLOWED_ENV and isinstance(value, str) and len(value) < 4096})
    env.update({DRIVER_FD_ENV: str(fd), PROBE_ENV: config["probe"], PATHS_ENV: json.dumps(config["paths"]),
                ALIASES_ENV: json.dumps(config.get("aliases") or {})})
    return env


def _lower_priority() -> None:
    # The OOM killer takes the student's processes first, never the harness or PostgreSQL.
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("1000")


def spawn(config: dict[str, Any], request: dict[str, Any], connection: socket.socket) -> None:
    account = config.get("account") or {}
    ids = {"user": account["uid"], "group": account["gid"], "extra_groups": []} if account else {}
    fd = connection.fileno()
    subprocess.Popen(  # not waited for: SIGCHLD is ignored, so the kernel reaps it
        driver_argv(config["python"]), cwd=config["home"], env=driver_env(config, request, fd),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(fd,),
        close_fds=True, process_group=0, preexec_fn=_lower_priority, **ids)


def _listen(config: dict[str, Any]) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(config["socket"])
    client = config.get("client") or {}
    if client:  # only the hidden user may connect (mode first: once given away, root cannot change it)
        os.chmod(config["socket"], 0o600)
        os.chown(config["socket"], client["uid"], client["gid"])
    listener.listen(16)
    return listener


def serve(config: dict[str, Any]) -> None:
    """Accept requests until killed; says `ready` on stdout once the socket takes connections."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    listener = _listen(config)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    started = 0
    while True:
        connection, _ = listener.accept()
        with connection:
            try:
                request = _read_request(connection)
            except (OSError, ValueError, RecursionError):
                continue
            if started >= MAX_DRIVERS:
                with contextlib.suppress(OSError):
                    connection.sendall(b'{"ok": false, "error": "too many student processes"}\n')
                continue
            connection.setblocking(True)  # the driver inherits the descriptor, flags included
            with contextlib.suppress(OSError):  # e.g. the student's code took its own folder away
                spawn(config, request, connection)
            started += 1
