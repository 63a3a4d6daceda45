"""Real `grader serve` / `grader worker` processes for tests, on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.polling import eventually_sync

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(**overrides: str) -> dict[str, str]:
    """The environment of a child process: ours, without settings that could leak in from the shell."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GRADER_", "GITHUB_")) and key != "DATABASE_URL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(overrides)
    return env


@dataclass
class ServiceProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _healthy(service: ServiceProcess) -> bool:
    if service.process.poll() is not None:
        raise RuntimeError(f"grader serve exited with {service.process.returncode}:\n{service.log()}")
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{service.base_url}/health", timeout=1).status_code == 200
    return False


def _wait_until_healthy(service: ServiceProcess, timeout: float = 30.0) -> None:
    try:
        eventually_sync(lambda: _healthy(service), timeout=timeout, what="grader serve answering /health")
    except AssertionError:
        raise RuntimeError(f"grader serve did not become healthy:\n{service.log()}") from None


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log_file:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "grader", *args], env=env, cwd=log_path.parent,
                                stdout=log_file, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_service(workdir: Path) -> Iterator[Callable[..., ServiceProcess]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, **env: str) -> ServiceProcess:
        port = free_port()
        log_path = workdir / f"serve-{port}.log"
        process = spawn(["serve", "--port", str(port)], service_env(DATABASE_URL=database_url, **env), log_path)
        started.append(process)
        service = ServiceProcess(process, f"http://127.0.0.1:{port}", log_path)
        _wait_until_healthy(service)
        return service

    try:
        yield start
    finally:
        for process in started:
            stop(process)
