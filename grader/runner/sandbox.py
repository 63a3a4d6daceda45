"""The one module that talks to Docker: run the harness in a locked-down container, build images.

Calls go through the `docker` CLI as asyncio subprocesses, so nothing blocks the event loop and no
Docker SDK is needed. Every container carries labels naming its owner; it is removed in `finally`
(after success, timeout, crash or cancellation), and a starting worker removes what a killed worker
left behind (`remove_orphans`). No variable of the service's environment reaches the container.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.report import InfrastructureError
from grader.runner.harness.protocol import DEPS_MOUNT, GRADER_MOUNT, PG_MOUNT, TMP_MOUNT, WORK_MOUNT
from grader.settings import RunnerSettings

LABEL = "grader.runner"
RUN_GRACE_SECONDS = 20  # the harness stops itself at the run limit; the host waits this much longer
STREAM_LIMIT_BYTES = 16 * 1024 * 1024  # one event line (the harness keeps each under 12 MB)
HOST_OUTPUT_CAP_BYTES = 64 * 1024 * 1024  # everything read from one container
SYSTEM_TMPFS_MB = 64
PG_TMPFS_MB = 256
# The harness needs these to hand folders to the student's uid and to kill its processes;
# every process that runs student code drops them with its uid.
HARNESS_CAPABILITIES = ("CHOWN", "SETUID", "SETGID", "KILL")
IMAGE_PYTHON = "/opt/venv/bin/python"
# What the image provides, read once per image: its Python, platform, distributions and importable names.
PROBE_SCRIPT = """
import importlib.metadata, json, os, platform, sys, sysconfig
purelib = sysconfig.get_paths()["purelib"]
tops, namespaces = set(sys.stdlib_module_names) | set(sys.builtin_module_names), set()
for name in os.listdir(purelib):
    path = os.path.join(purelib, name)
    if name.endswith((".dist-info", ".egg-info", ".data", ".pth")) or name == "__pycache__":
        continue
    if os.path.isdir(path):
        (tops if os.path.exists(os.path.join(path, "__init__.py")) else namespaces).add(name)
    elif name.endswith((".py", ".so")):
        tops.add(name.split(".")[0])
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (ValueError, OSError):
    libc = ""
dists = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions(path=[purelib])}
print(json.dumps({"python": platform.python_version(), "machine": platform.machine(), "libc": libc,
                  "distributions": dists, "top_level": sorted(tops), "namespaces": sorted(namespaces)}))
"""


@dataclass
class ContainerRun:
    """What came out of one container: the harness' event lines and how the container ended."""

    lines: list[str] = field(default_factory=list)
    exit_code: int | None = None
    timed_out: bool = False  # the host's wall clock ran out and killed the container
    oom_killed: bool = False
    output_capped: bool = False
    dropped_lines: int = 0  # lines longer than STREAM_LIMIT_BYTES, skipped unread
    stderr_tail: str = ""
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class _Completed:
    returncode: int
    stdout: str
    stderr: str


def docker_binary() -> str:
    path = shutil.which("docker")
    if path is None:
        raise InfrastructureError("no container engine: the docker command is not installed")
    return path


async def _docker(args: Sequence[str], env: Mapping[str, str], *, stdin: bytes | None = None,
                  timeout: float = 60.0) -> _Completed:  # noqa: ASYNC109
    """Run one docker command to completion; an engine that cannot be reached is an infra error."""
    process = await asyncio.create_subprocess_exec(
        docker_binary(), *args, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(env))
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise InfrastructureError(f"docker {args[0]} did not answer within {timeout:.0f} s") from None
    result = _Completed(process.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    if _engine_unreachable(result.stderr):
        raise InfrastructureError(f"no container engine: {_last_line(result.stderr)}")
    return result


def _engine_unreachable(stderr: str) -> bool:
    return "Cannot connect to the Docker daemon" in stderr or "error during connect" in stderr


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def container_args(settings: RunnerSettings, name: str, deps: Path | None = None) -> list[str]:
    """`docker run` options: every limit of the sandbox in one place; `deps`, the submission's installed
    dependencies, is the one bind mount, read-only."""
    memory = f"{settings.memory_mb}m"
    args = ["--name", name, "--interactive", "--init", "--pull", "never", "--log-driver", "none",
            "--hostname", "grader", "--network", "none", "--read-only", "--user", "0:0",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", memory, "--memory-swap", memory, "--cpus", str(settings.cpus),
            "--pids-limit", str(settings.pids), "--ulimit", "core=0", "--ulimit", "nofile=4096:4096"]
    for capability in HARNESS_CAPABILITIES:
        args += ["--cap-add", capability]
    for mount, size_mb, mode in ((WORK_MOUNT, settings.tmpfs_mb, "0755"), (GRADER_MOUNT, SYSTEM_TMPFS_MB, "0755"),
                                 (PG_MOUNT, PG_TMPFS_MB, "0755"), (TMP_MOUNT, SYSTEM_TMPFS_MB, "1777")):
        args += ["--tmpfs", f"{mount}:rw,nosuid,nodev,noexec,size={size_mb}m,mode={mode}"]
    if deps is not None:
        args += ["--mount", f"type=bind,source={deps},target={DEPS_MOUNT},readonly"]
    for key, value in owner_labels().items():
        args += ["--label", f"{key}={value}"]
    return args


def helper_args(settings: RunnerSettings) -> list[str]:
    """A short helper container of the runner image (probe, byte-compilation): no network, no privilege."""
    args = ["--rm", "--pull", "never", "--log-driver", "none", "--network", "none",
            "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "512m",
            "--pids-limit", "64", "--tmpfs", f"{TMP_MOUNT}:rw,nosuid,nodev,noexec,size=64m",
            "--entrypoint", IMAGE_PYTHON]
    for key, value in owner_labels().items():
        args += ["--label", f"{key}={value}"]
    return args


def owner_host() -> str:
    """Where a worker's process id means something: the host name and the process-id namespace.

    Workers in containers on one host (sharing its network, so its host name) have process ids of
    their own namespaces; a worker must never judge another namespace's process dead and remove its
    running grading container.
    """
    try:
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        namespace = "unknown"
    return f"{socket.gethostname()}/{namespace}"


def owner_labels() -> dict[str, str]:
    return {LABEL: "1", f"{LABEL}.host": owner_host(), f"{LABEL}.pid": str(os.getpid()),
            f"{LABEL}.started": str(int(time.time()))}


class DockerSandbox:
    """Runs the harness of `settings.image` on an archive; one instance per worker is enough."""

    def __init__(self, settings: RunnerSettings) -> None:
        self.settings = settings

    async def _docker(self, args: Sequence[str], *, timeout: float = 60.0) -> _Completed:  # noqa: ASYNC109
        return await _docker(args, dict(self.settings.docker_env), timeout=timeout)

    async def run(self, archive: bytes, on_line: Callable[[str], None] | None = None,
                  deps: Path | None = None) -> ContainerRun:
        name = f"grader-run-{uuid.uuid4().hex[:16]}"
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            docker_binary(), "run", *container_args(self.settings, name, deps), self.settings.image,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=dict(self.settings.docker_env), limit=STREAM_LIMIT_BYTES)
        run = ContainerRun()
        try:
            await self._follow(process, archive, run, on_line or (lambda _line: None))
            if run.exit_code not in (0, None) or run.timed_out:
                run.oom_killed = await self._oom_killed(name)
        finally:
            await asyncio.shield(self._remove(name))
            if process.returncode is None:
                process.kill()
                await process.wait()
        run.duration_seconds = time.monotonic() - started
        return run

    async def _follow(self, process: asyncio.subprocess.Process, archive: bytes, run: ContainerRun,
                      on_line: Callable[[str], None]) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        stderr_task = asyncio.create_task(_tail(process.stderr, 4000))
        feeding = asyncio.create_task(_feed(process.stdin, archive))
        limit = self.settings.run_timeout_seconds + RUN_GRACE_SECONDS
        try:
            await asyncio.wait_for(self._read_lines(process.stdout, run, on_line), limit)
        except TimeoutError:
            run.timed_out = True
        finally:
            feeding.cancel()
        if run.timed_out or run.output_capped:
            process.kill()
        run.exit_code = await process.wait()
        run.stderr_tail = await stderr_task

    async def _read_lines(self, stdout: asyncio.StreamReader, run: ContainerRun,
                          on_line: Callable[[str], None]) -> None:
        """Split the output into lines of at most STREAM_LIMIT_BYTES: a longer one is skipped and
        counted, never an error (and never held in memory whole)."""
        total, pending, skipping = 0, bytearray(), False
        while chunk := await stdout.read(65536):
            total += len(chunk)
            if total > HOST_OUTPUT_CAP_BYTES:
                run.output_capped = True
                return
            searched = len(pending)
            pending += chunk
            while (end := pending.find(b"\n", searched)) >= 0:
                line = bytes(pending[:end])
                del pending[:end + 1]
                searched = 0
                if skipping:  # the rest of an over-long line
                    skipping = False
                    continue
                _keep_line(line, run, on_line)
            if len(pending) > STREAM_LIMIT_BYTES:
                run.dropped_lines += 0 if skipping else 1
                pending.clear()
                skipping = True
        if pending and not skipping:
            _keep_line(bytes(pending), run, on_line)

    async def _oom_killed(self, name: str) -> bool:
        with contextlib.suppress(InfrastructureError):
            result = await self._docker(["inspect", "--format", "{{.State.OOMKilled}}", name], timeout=30)
            return result.stdout.strip() == "true"
        return False

    async def _remove(self, name: str) -> None:
        with contextlib.suppress(InfrastructureError, OSError):
            await self._docker(["rm", "--force", "--volumes", name], timeout=60)

    async def image_digest(self) -> str:
        """The image's content id (sha256:…); a missing image is an infrastructure failure."""
        result = await self._docker(["image", "inspect", "--format", "{{.Id}}", self.settings.image], timeout=30)
        if result.returncode != 0:
            raise InfrastructureError(
                f"runner image {self.settings.image} not found: build it with `grader image build`")
        return result.stdout.strip()

    async def probe_image(self) -> dict[str, object]:
        """What the runner image provides (see PROBE_SCRIPT); an image that cannot say is an infra error."""
        result = await self._docker(["run", *helper_args(self.settings), self.settings.image, "-I", "-c",
                                     PROBE_SCRIPT], timeout=120)
        try:
            data = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            data = None
        if result.returncode != 0 or not isinstance(data, dict):
            raise InfrastructureError(f"the runner image {self.settings.image} could not be probed: "
                                      f"{_last_line(result.stderr)}")
        return data

    async def compile_bytecode(self, folder: Path) -> None:
        """Byte-compile installed wheels with the image's own Python (so every run imports them from
        .pyc, as it does the image's packages); the folder is mounted where the runs will see it."""
        args = [*helper_args(self.settings), "--user", f"{os.getuid()}:{os.getgid()}",
                "--mount", f"type=bind,source={folder},target={DEPS_MOUNT}"]
        result = await self._docker(["run", *args, self.settings.image, "-I", "-m", "compileall", "-q", "-j", "2",
                                     DEPS_MOUNT], timeout=300)
        if result.returncode not in (0, 1):  # 1: a module that does not compile (Python 2 leftovers)
            raise InfrastructureError(f"byte-compiling dependencies failed: {_last_line(result.stderr)}")
    async def pull_if_missing(self) -> str:
        """Pull the runner image when this engine does not have it (a worker's first start on a new
        host); what happened, in a few words. A failed pull is not fatal here: grading then fails with
        the image's own one-line reason, and the queue retries."""
        present = await self._docker(["image", "inspect", "--format", "{{.Id}}", self.settings.image], timeout=30)
        if present.returncode == 0:
            return "present"
        pulled = await self._docker(["pull", "--quiet", self.settings.image], timeout=900)
        return "pulled" if pulled.returncode == 0 else f"not pulled: {_last_line(pulled.stderr)}"

    async def remove_orphans(self) -> int:
        """Remove containers of dead workers on this host, and any older than twice the run limit."""
        result = await self._docker(["ps", "--all", "--filter", f"label={LABEL}", "--format",
                                f'{{{{.ID}}}} {{{{.Label "{LABEL}.host"}}}} {{{{.Label "{LABEL}.pid"}}}} '
                                f'{{{{.Label "{LABEL}.started"}}}}'], timeout=30)
        orphans = [fields[0] for fields in (line.split() for line in result.stdout.splitlines())
                   if len(fields) == 4 and self._is_orphan(*fields[1:])]
        if orphans:
            await self._docker(["rm", "--force", "--volumes", *orphans], timeout=120)
        return len(orphans)

    def _is_orphan(self, host: str, pid: str, started: str) -> bool:
        too_old = time.time() - float(started or 0) > 2 * self.settings.run_timeout_seconds + RUN_GRACE_SECONDS
        if host != owner_host() or not pid.isdigit():
            return too_old
        return too_old or (int(pid) != os.getpid() and not _alive(int(pid)))

    async def build_image(self, context: Path, *, tag: str, target: str, build_args: Mapping[str, str],
                          on_line: Callable[[str], None]) -> None:
        """`docker build` of a context folder (layer cache applies); a failure is one line."""
        args = ["build", "--network", "host", "--target", target, "--tag", tag]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        process = await asyncio.create_subprocess_exec(
            docker_binary(), *args, str(context), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=dict(self.settings.docker_env), limit=STREAM_LIMIT_BYTES)
        assert process.stdout is not None
        tail: list[str] = []
        while line := await process.stdout.readline():
            text = line.decode("utf-8", "replace").rstrip()
            tail = [*tail[-19:], text]
            on_line(text)
        if await process.wait() != 0:
            raise InfrastructureError(f"docker build failed: {_last_line(chr(10).join(tail))}")


def _keep_line(line: bytes, run: ContainerRun, on_line: Callable[[str], None]) -> None:
    text = line.decode("utf-8", "replace")
    run.lines.append(text)
    on_line(text)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
        stdin.close()
        await stdin.wait_closed()


async def _tail(stream: asyncio.StreamReader, chars: int) -> str:
    """Read a stream to its end, keeping only its last characters."""
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-chars * 4:]
    return kept.decode("utf-8", "replace")[-chars:]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
