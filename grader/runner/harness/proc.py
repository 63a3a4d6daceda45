"""Run one command as an unprivileged user with a wall clock, an output cap and clean-up.

Every process of that user is killed when the command ends, so nothing the student started in the
background survives into the next step. A grader-run tool can hand its machine-readable results back
through a pipe (`channel`): no file for anyone to pre-write or replace, and only what arrives before
the command's end counts.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .protocol import ARTIFACT_LIMIT_BYTES, CHANNEL_ENV, OUTCOME_EXITED, OUTCOME_OOM, OUTCOME_TIMEOUT, OUTPUT_TAIL_CHARS

TAIL_BYTES = 64 * 1024
BASE_PATH = "/opt/venv/bin:/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str  # HOME and TMPDIR: fresh folders of the current step, removed after it
    tmp: str

    @classmethod
    def named(cls, name: str, scratch: str) -> Account:
        entry = pwd.getpwnam(name)
        return cls(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=f"{scratch}/home", tmp=f"{scratch}/tmp")


@dataclass(frozen=True)
class Outcome:
    kind: str  # protocol OUTCOME_*
    exit_code: int | None
    duration_seconds: float
    output: str  # the last characters of stdout+stderr
    total_bytes: int
    truncated: bool
    channel: bytes | None = None  # what the tool wrote to its results pipe (None: no pipe was given)
    channel_overflow: bool = False  # it wrote more than ARTIFACT_LIMIT_BYTES; what is kept is cut


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
        if not _signal_each(uid, signal.SIGKILL):
            return
        time.sleep(0.005)


def _signal_each(uid: int, signum: int) -> int:
    """Send `signum` to every process of `uid` found in /proc now; how many there were."""
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and _owner(name) == uid]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)
    return len(pids)


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class _Capture:
    """Keeps the tail of a stream and counts the rest, so a flood costs no memory."""

    def __init__(self, limit: int, tail_chars: int = OUTPUT_TAIL_CHARS) -> None:
        self.limit = limit
        self.tail_chars = tail_chars
        self.keep = max(TAIL_BYTES, tail_chars * 4)
        self.total = 0
        self.tail = b""

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.tail = (self.tail + chunk)[-self.keep:]

    def text(self) -> str:
        return self.tail.decode("utf-8", "replace")[-self.tail_chars:]


class _Channel:
    """The head of a results pipe, up to ARTIFACT_LIMIT_BYTES; the rest is read and dropped."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = bytearray()
        self.overflow = False
        self.closed = False
        self.consumed = 0  # how much of `data` the dialog has already been given

    def lines(self) -> list[bytes]:
        """The complete lines that arrived since the last call."""
        end = self.data.rfind(b"\n") + 1
        if end <= self.consumed:
            return []
        new, self.consumed = bytes(self.data[self.consumed:end]), end
        return new.splitlines()

    def read(self) -> None:
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.closed = True
            return
        room = ARTIFACT_LIMIT_BYTES - len(self.data)
        self.data += chunk[:max(room, 0)]
        self.overflow |= len(chunk) > room

    def drain(self) -> None:
        """Everything still buffered once every writer is gone (they are all killed by then)."""
        os.set_blocking(self.fd, False)
        with contextlib.suppress(BlockingIOError):
            while not self.closed:
                self.read()
        os.close(self.fd)


Dialog = Callable[[bytes], bytes]  # a line from the command -> the line it gets back on its stdin


def signal_user_processes(uid: int, signum: int) -> None:
    """Send `signum` to every process of `uid` (twice over, for one forked in between)."""
    for _ in range(2):
        _signal_each(uid, signum)


@contextlib.contextmanager
def frozen(uid: int) -> Iterator[None]:
    """Every process of `uid` stopped while the harness looks at what it did; continued afterwards."""
    signal_user_processes(uid, signal.SIGSTOP)
    try:
        yield
    finally:
        signal_user_processes(uid, signal.SIGCONT)


def run_as(account: Account, argv: Sequence[str], *, cwd: str, env: Mapping[str, str],
           timeout: float, output_limit: int, channel: bool = False,
           tail_chars: int = OUTPUT_TAIL_CHARS, dialog: Dialog | None = None, only_own: bool = False) -> Outcome:
    """Run `argv` as `account`; a timeout or an out-of-memory kill is an outcome, not an exception.

    `dialog` (with `channel`): called with each line the command writes to its results pipe; what it
    returns is written to the command's stdin, so the command can wait for the harness between steps.
    `only_own`: when it ends, kill its own process group only, not every process of the account (for
    the harness' own client run while a stopped student process waits).
    """
    started = time.monotonic()
    oom_before = oom_kills()
    pipe = os.pipe() if channel else None
    env = {**env, CHANNEL_ENV: str(pipe[1])} if pipe else dict(env)
    if pipe:  # a tool that takes an output path gets the pipe as /dev/fd/N, which it may reopen as its own
        os.fchown(pipe[1], account.uid, account.gid)
        argv = [arg.replace("{channel}", str(pipe[1])) for arg in argv]
    try:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=env, user=account.uid, group=account.gid, extra_groups=[],
            stdin=subprocess.PIPE if dialog else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=_child_setup, close_fds=True, pass_fds=(pipe[1],) if pipe else (),
        )  # preexec_fn is safe here: the harness is single-threaded
    finally:
        if pipe:
            os.close(pipe[1])
    capture, results = _Capture(output_limit, tail_chars), _Channel(pipe[0]) if pipe else None
    timed_out = _pump(process, capture, results, started + max(timeout, 0.1), dialog)
    if only_own:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        kill_user_processes(account.uid)
    exit_code = process.wait()
    if results is not None:
        results.drain()
    kind = OUTCOME_EXITED
    if timed_out:
        kind = OUTCOME_TIMEOUT
    elif exit_code == -signal.SIGKILL and oom_kills() > oom_before:
        kind = OUTCOME_OOM
    return Outcome(kind=kind, exit_code=exit_code, duration_seconds=time.monotonic() - started,
                   output=capture.text(), total_bytes=capture.total, truncated=capture.total > output_limit,
                   channel=bytes(results.data) if results else None,
                   channel_overflow=bool(results and results.overflow))


def _pump(process: subprocess.Popen[bytes], capture: _Capture, results: _Channel | None, deadline: float,
          dialog: Dialog | None = None) -> bool:
    """Read the output (and the results pipe) until the process ends; True when the deadline passed first.

    A background child that keeps the pipes open does not hold the step: once the command itself
    has exited, the caller kills whatever is left.
    """
    assert process.stdout is not None
    out = process.stdout.fileno()
    while (remaining := deadline - time.monotonic()) > 0:
        watched = [out] + ([results.fd] if results and not results.closed else [])
        ready, _, _ = select.select(watched, [], [], min(remaining, 0.2))
        if results is not None and results.fd in ready:
            results.read()
            if dialog is not None:
                _answer(process, results, dialog)
        if out in ready:
            chunk = os.read(out, 65536)
            if not chunk:
                return _wait(process, deadline)
            capture.add(chunk)
        elif not ready and process.poll() is not None:
            return False
    return True


def _answer(process: subprocess.Popen[bytes], results: _Channel, dialog: Dialog) -> None:
    for line in results.lines():
        reply = dialog(line)
        with contextlib.suppress(OSError):  # the command may be gone already
            assert process.stdin is not None
            process.stdin.write(reply)
            process.stdin.flush()


def _wait(process: subprocess.Popen[bytes], deadline: float) -> bool:
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        return True
    return False
