"""The container's limits come from the settings, and nothing of the service's environment leaks."""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

import pytest

from grader.runner.sandbox import LABEL, DockerSandbox, container_args, helper_args, owner_host
from grader.settings import RunnerSettings, load_settings

SETTINGS = RunnerSettings(memory_mb=768, cpus=1.5, pids=99, tmpfs_mb=300, run_timeout_seconds=100)


def _pairs(args: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(args))


def test_container_args__every_limit_from_the_settings() -> None:
    args = container_args(SETTINGS, "grader-run-x")
    pairs = _pairs(args)
    assert {("--network", "none"), ("--memory", "768m"), ("--memory-swap", "768m"), ("--cpus", "1.5"),
            ("--pids-limit", "99"), ("--cap-drop", "ALL"), ("--security-opt", "no-new-privileges"),
            ("--pull", "never"), ("--log-driver", "none"), ("--ulimit", "core=0")} <= pairs
    assert "--read-only" in args
    assert ("--tmpfs", "/work:rw,nosuid,nodev,noexec,size=300m,mode=0755") in pairs
    assert {value for flag, value in pairs if flag == "--cap-add"} == {"CHOWN", "SETUID", "SETGID", "KILL"}


def test_container_args__no_environment_no_socket_no_privileges() -> None:
    joined = " ".join(container_args(SETTINGS, "grader-run-x"))
    for forbidden in ("--env", "-e ", "--env-file", "docker.sock", "--privileged", "--volume", "-v ", "--mount"):
        assert forbidden not in joined


def test_container_args__the_installed_dependencies_are_the_one_read_only_mount(tmp_path: Path) -> None:
    args = container_args(SETTINGS, "grader-run-x", tmp_path / "site")

    mounts = [value for flag, value in _pairs(args) if flag == "--mount"]
    assert mounts == [f"type=bind,source={tmp_path / 'site'},target=/opt/deps,readonly"]
    assert "--volume" not in args
    assert "--read-only" in args


def test_helper_args__no_network_no_privilege_removed_after() -> None:
    args = helper_args(SETTINGS)
    assert {("--network", "none"), ("--cap-drop", "ALL"), ("--security-opt", "no-new-privileges"),
            ("--pull", "never")} <= _pairs(args)
    assert {"--rm", "--read-only"} <= set(args)


def test_container_args__owner_labels() -> None:
    labels = {value.split("=", 1)[0]: value.split("=", 1)[1] for flag, value in
              _pairs(container_args(SETTINGS, "n")) if flag == "--label"}
    assert labels[LABEL] == "1"
    assert labels[f"{LABEL}.pid"] == str(os.getpid())
    assert labels[f"{LABEL}.host"] == owner_host()
    assert labels[f"{LABEL}.host"].startswith(f"{socket.gethostname()}/pid:[")


def test_docker_env__keeps_only_the_engine_address() -> None:
    env = dict(load_settings({"GITHUB_TOKEN": "ghp_x", "DATABASE_URL": "postgresql+asyncpg://u:p@h/d",
                              "DOCKER_HOST": "unix:///run/docker.sock"}).runner.docker_env)
    assert env["DOCKER_HOST"] == "unix:///run/docker.sock"
    assert "GITHUB_TOKEN" not in env
    assert "DATABASE_URL" not in env


@pytest.mark.parametrize(("host", "pid", "age", "orphan"), [
    ("this", "dead", 10, True),
    ("this", "self", 10, False),
    ("other-host", "dead", 10, False),  # another machine's worker: only its age counts
    ("other-host", "dead", 10_000, True),
    ("this host, another process namespace", "dead", 10, False),  # a worker in another container
    ("this", "self", 10_000, True),
])
def test_is_orphan__dead_owner_or_too_old(host: str, pid: str, age: int, orphan: bool) -> None:
    sandbox_ = DockerSandbox(SETTINGS)
    host_name = {"this": owner_host(),
                 "this host, another process namespace": f"{socket.gethostname()}/pid:[1]"}.get(host, host)
    pid_text = str(os.getpid()) if pid == "self" else str(2**22 + 4321)
    assert sandbox_._is_orphan(host_name, pid_text, str(int(time.time()) - age)) is orphan
