"""The service image as deployed: `grader serve` and two `grader worker` containers on one PostgreSQL,
the workers grading in sibling containers through the engine's socket, against the fake GitHub.

A burst of pushes is graded exactly once, by both workers, and each push gets its comment and a
completed check run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from grader.db.models import Job, JobKind, JobStatus, Result
from tests.conftest import FAKE_GITHUB_TOKEN, WEBHOOK_SECRET, skip_or_fail
from tests.fakegithub.server import FakeGitHub
from tests.support.docker import IMAGE
from tests.support.polling import eventually_sync
from tests.support.servers import free_port
from tests.support.webhooks import pull_request_payload, signed_delivery

pytestmark = [pytest.mark.docker, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900)]
SERVICE_IMAGE = os.environ.get("GRADER_SERVICE_IMAGE", "grader-service:latest")
CLEAN = Path(__file__).resolve().parents[1] / "fixtures" / "submissions" / "clean"
SOCKET = "/var/run/docker.sock"
PUSHES = 4


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def service_image(runner_settings: object) -> str:
    if _docker("image", "inspect", SERVICE_IMAGE).returncode != 0:
        skip_or_fail(f"needs the service image: grader image build --target service --tag {SERVICE_IMAGE} "
                     "--base grader-base:bookworm")
    return SERVICE_IMAGE


@contextmanager
def container(image: str, *command: str, env: dict[str, str], socket: bool = False,
              same_path: tuple[str, ...] = ()) -> Iterator[str]:
    """A detached container on the host's network (dockerd here has no bridge); removed afterwards."""
    name = f"grader-deploy-test-{uuid.uuid4().hex[:8]}"
    args = ["run", "--detach", "--name", name, "--network", "host"]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    if socket:
        args += ["--volume", f"{SOCKET}:{SOCKET}", "--group-add", str(Path(SOCKET).stat().st_gid)]
    for path in same_path:  # a host folder the engine must find where the container sees it
        args += ["--volume", f"{path}:{path}"]
    started = _docker(*args, image, *command)
    assert started.returncode == 0, started.stderr
    try:
        yield name
    finally:
        _docker("rm", "--force", name)


def _logs(name: str) -> str:
    logs = _docker("logs", name)
    return logs.stdout + logs.stderr


def _push(base_url: str, number: int, sha: str) -> int:
    payload = pull_request_payload("opened", sha=sha, number=number, repo_id=7100)
    body, headers = signed_delivery(payload, secret=WEBHOOK_SECRET)
    return httpx.post(f"{base_url}/webhooks/github", content=body, headers=headers, timeout=10).status_code


def _all_published(fake: FakeGitHub, repo: str, shas: dict[int, str]) -> bool:
    completed = {run["head_sha"] for run in fake.check_runs.values() if run.get("status") == "completed"}
    commented = all(any(sha in c["body"] for c in fake.comments_on(repo, number)) for number, sha in shas.items())
    return commented and set(shas.values()) <= completed


def _graded_a_job(log: str) -> bool:
    """Whether a worker's log (JSON lines, after other output) has a grading job done."""
    lines = (json.loads(line) for line in log.splitlines() if line.startswith("{"))
    return any(line.get("kind") == "grade" and line.get("outcome") == "done" for line in lines)


async def test_service_image__two_workers_grade_a_burst_exactly_once(
        service_image: str, postgres_url: str, postgres_sessionmaker, fake_github: FakeGitHub, tmp_path: Path) -> None:
    deps_cache = tmp_path / "deps"
    deps_cache.mkdir()
    deps_cache.chmod(0o777)  # the workers run as uid 10001
    logs = await asyncio.to_thread(_grade_a_burst, service_image, postgres_url, fake_github, deps_cache)

    assert all(_graded_a_job(log) for log in logs), "both workers graded"
    assert fake_github.count("issues/create-comment") == PUSHES
    async with postgres_sessionmaker() as session:
        grading = (await session.execute(select(Job.status, Job.attempt).where(Job.kind == JobKind.GRADE))).all()
        results = await session.scalar(select(func.count()).select_from(Result))
    assert sorted(grading) == [(JobStatus.DONE, 1)] * PUSHES, "each push graded once, on the first claim"
    assert results == PUSHES


def _grade_a_burst(service_image: str, postgres_url: str, fake_github: FakeGitHub, deps_cache: Path) -> list[str]:
    """Start the api and two workers, push PUSHES times, wait until all is published; the workers' logs."""
    repo = "course/repo-7100"
    shas = {number: f"{number:02d}" * 20 for number in range(1, PUSHES + 1)}
    for number, sha in shas.items():
        fake_github.add_tarball(repo, sha, CLEAN)
        fake_github.pulls[(repo, number)] = sha
    port = free_port()
    env = {"DATABASE_URL": postgres_url, "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_TOKEN": FAKE_GITHUB_TOKEN,
           "GITHUB_API_URL": fake_github.base_url, "GRADER_IMAGE": IMAGE, "GRADER_WORKERS": "0",
           "GRADER_POLL_SECONDS": "0.2", "GRADER_DEPS_CACHE_DIR": str(deps_cache)}
    base_url = f"http://127.0.0.1:{port}"
    with container(service_image, "grader", "serve", "--host", "127.0.0.1", "--port", str(port), env=env) as api:
        _wait(lambda: _healthy(base_url), 120, "the api container answering /ready", api)
        worker = (service_image, "grader", "worker", "--count", "1")
        with container(*worker, env=env, socket=True, same_path=(str(deps_cache),)) as first, \
                container(*worker, env=env, socket=True, same_path=(str(deps_cache),)) as second:
            assert [_push(base_url, number, sha) for number, sha in shas.items()] == [202] * PUSHES
            _wait(lambda: _all_published(fake_github, repo, shas), 600, "every push published", api, first, second)
            return [_logs(first), _logs(second)]


def _wait(probe: Callable[[], bool], timeout: float, what: str, *containers: str) -> None:
    """`eventually_sync`, with the containers' logs in the failure message."""
    try:
        eventually_sync(probe, timeout=timeout, interval=1, what=what)
    except AssertionError as exc:
        logs = "\n".join(f"--- {name}\n{_logs(name)[-3000:]}" for name in containers)
        raise AssertionError(f"{exc}\n{logs}") from None


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
