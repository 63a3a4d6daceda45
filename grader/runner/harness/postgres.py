"""The throwaway PostgreSQL of one run: the image's ready-made cluster copied into a tmpfs.

Unix socket only, fsync off (the data dies with the container anyway); the roles `student` and
`hidden` are non-superusers with a statement timeout, authenticated by their OS user (peer).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from .proc import Account
from .protocol import PG_MOUNT, PG_SOCKET_DIR

PG_BIN = "/usr/lib/postgresql/15/bin"
TEMPLATE = "/opt/pg-template"
DATA_DIR = f"{PG_MOUNT}/data"
SERVER_OPTIONS = (
    "listen_addresses=", f"unix_socket_directories={PG_SOCKET_DIR}", "fsync=off", "synchronous_commit=off",
    "full_page_writes=off", "shared_buffers=32MB", "max_connections=40", "dynamic_shared_memory_type=mmap",
)


def database_url(role: str, database: str = "") -> str:
    return f"postgresql+asyncpg://{role}@/{database or role}?host={PG_SOCKET_DIR}"


def start(account: Account) -> subprocess.Popen[bytes]:
    """Start the server in the background; `wait_ready` before using it."""
    for path, mode in ((DATA_DIR, 0o700), (PG_SOCKET_DIR, 0o755)):
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chown(path, account.uid, account.gid)
    options = [arg for option in SERVER_OPTIONS for arg in ("-c", option)]
    script = f'cp -a {TEMPLATE}/. {DATA_DIR}/ && exec {PG_BIN}/postgres -D {DATA_DIR} "$@"'
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


def _accepting() -> bool:
    """pg_isready over the socket (the pid file is the server's own, 0600, unreadable here)."""
    probe = subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", PG_SOCKET_DIR, "-t", "1"], check=False,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return probe.returncode == 0


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
    shutil.rmtree(DATA_DIR, ignore_errors=True)
