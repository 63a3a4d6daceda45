"""Run one command as an unprivileged user with a wall clock, an output cap and clean-up.

Every process of that user is killed when the command ends, so nothing the student started in the
background survives into the next step (or forges a result file later).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .protocol import OUTCOME_EXITED, OUTCOME_OOM, OUTCOME_TIMEOUT, OUTPUT_TAIL_CHARS

TAIL_BYTES = 64 * 1024
LONG_TAIL_CHARS = 16_000
BASE_PATH = "/opt/venv/bin:/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str
    tmp: str  # TMPDIR: the student's is its own small tmpfs, so filling it leaves room for results

    @classmethod
    def named(cls, name: str, home: str, tmp: str = "") -> Account:
        entry = pwd.getpwnam(name)
        return cls(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=home, tmp=tmp or f"{home}/tmp")


@dataclass(frozen=True)
class Outcome:
    kind: str  # protocol OUTCOME_*
    exit_code: int | None
    duration_seconds: float
    output: str  # the last characters of stdout+stderr
    total_bytes: int
    truncated: bool
    long_output: str = ""  # a longer tail, for an error that explains itself above the last lines


def minimal_env(account: Account, **extra: str) -> dict[str, str]:
    """The whole environment of a student process: nothing is inherited from the harness."""
    env = {"PATH": BASE_PATH, "HOME": account.home, "TMPDIR": account.tmp, "LANG": "C.UTF-8",
           "USER": account.name, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def _child_setup() -> None:
    # Make the student's processes the OOM killer's first choice, never the harness or PostgreSQL.
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("1000")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def oom_kills() -> int:
    """The container cgroup's OOM-kill counter (cgroup v2 or v1); 0 when it cannot be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        with contextlib.suppress(OSError), open(path) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    return 0


def kill_user_processes(uid: int, attempts: int = 200) -> None:
    """SIGKILL every process of `uid`, repeatedly, so that even a fork bomb runs dry."""
    for _ in range(attempts):
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and _owner(name) == uid]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class _Capture:
    """Keeps the tail of a stream and counts the rest, so a flood costs no memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.tail = b""

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.tail = (self.tail + chunk)[-TAIL_BYTES:]

    def text(self, chars: int = OUTPUT_TAIL_CHARS) -> str:
        return self.tail.decode("utf-8", "replace")[-chars:]


def run_as(account: Account, argv: Sequence[str], *, cwd: str, env: Mapping[str, str],
           timeout: float, output_limit: int) -> Outcome:
    """Run `argv` as `account`; a timeout or an out-of-memory kill is an outcome, not an exception."""
    started = time.monotonic()
    oom_before = oom_kills()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env), user=account.uid, group=account.gid, extra_groups=[],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0,
        preexec_fn=_child_setup, close_fds=True,  # the harness is single-threaded
    )
    capture = _Capture(output_limit)
    timed_out = _pump(process, capture, started + max(timeout, 0.1))
    kill_user_processes(account.uid)
    exit_code = process.wait()
    kind = OUTCOME_EXITED
    if timed_out:
        kind = OUTCOME_TIMEOUT
    elif exit_code == -signal.SIGKILL and oom_kills() > oom_before:
        kind = OUTCOME_OOM
    return Outcome(kind=kind, exit_code=exit_code, duration_seconds=time.monotonic() - started,
                   output=capture.text(), total_bytes=capture.total, truncated=capture.total > output_limit,
                   long_output=capture.text(LONG_TAIL_CHARS))


def _pump(process: subprocess.Popen[bytes], capture: _Capture, deadline: float) -> bool:
    """Read the output until the process ends; True when the deadline passed first.

    A background child that keeps the pipe open does not hold the step: once the command itself has
    exited, the caller kills whatever is left.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    while (remaining := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return _wait(process, deadline)
            capture.add(chunk)
        elif process.poll() is not None:
            return False
    return True


def _wait(process: subprocess.Popen[bytes], deadline: float) -> bool:
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        return True
    return False
