"""Run a rubric's hidden tests on the host the way the harness runs them in the container.

The same pieces: the broker starting the student's code in processes of its own (here as the same
user: no container), the driver and the rubric's probe on the student's side, the grader's plugins
and pinned pytest options on the hidden side, results through a pipe, verdicts by the host's rule.
PostgreSQL comes from the test server: each run gets fresh databases of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from grader.grading.report import TestCase
from grader.runner.assemble import hidden_verdicts
from grader.runner.harness.hidden_step import BROKER_BOOT, HARNESS_PARENT
from grader.runner.harness.protocol import CHANNEL_ENV, HIDDEN_PLUGIN_MODULE, hidden_test_names
from grader.runner.parse import parse_results

HARNESS = Path(HARNESS_PARENT) / "harness"
PROBE_DATABASES = ("app", "models")


def _admin_dsn(server_url: str, database: str | None = None) -> str:
    url = make_url(server_url).set(drivername="postgresql")
    return url.set(database=database or url.database).render_as_string(hide_password=False)


async def _create(server_url: str, names: list[str], drop: bool) -> None:
    connection = await asyncpg.connect(_admin_dsn(server_url))
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@contextlib.contextmanager
def probe_databases(server_url: str) -> Iterator[dict[str, dict[str, str | None]]]:
    """Fresh databases for one run of the hidden tests, dropped afterwards."""
    base = make_url(server_url).database
    names = {key: f"{base}_hidden_{key}_{uuid.uuid4().hex[:8]}" for key in PROBE_DATABASES}
    asyncio.run(_create(server_url, list(names.values()), drop=False))
    try:
        yield {key: {"student_url": make_url(server_url).set(database=name).render_as_string(hide_password=False),
                     "dsn": _admin_dsn(server_url, name), "student_role": None} for key, name in names.items()}
    finally:
        asyncio.run(_create(server_url, list(names.values()), drop=True))


def _plugins(hidden: Path, target: Path) -> None:
    target.mkdir(parents=True)
    shutil.copyfile(HARNESS / "results_plugin.py", target / "grader_results.py")
    shutil.copyfile(HARNESS / "hidden_support.py", target / "grader_hidden_support.py")
    if (hidden / "conftest.py").is_file():
        shutil.copyfile(hidden / "conftest.py", target / f"{HIDDEN_PLUGIN_MODULE}.py")


def _start_broker(workdir: Path, probe: Path, backend: Path) -> subprocess.Popen[bytes]:
    home = workdir / "student-home"
    home.mkdir()
    config = {"socket": str(workdir / "broker.sock"), "account": None, "client": None, "home": str(home),
              "tmp": str(home), "path": os.environ["PATH"], "python": sys.executable, "probe": str(probe),
              "paths": [str(backend)]}
    broker = subprocess.Popen([sys.executable, "-I", "-B", "-c", BROKER_BOOT, HARNESS_PARENT, json.dumps(config)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert broker.stdout is not None
    assert broker.stdout.readline().strip() == b"ready"
    return broker


def _pytest_argv(hidden: Path, workdir: Path, plugins: Path) -> list[str]:
    ini = workdir / "pytest-hidden.ini"
    ini.write_text("[pytest]\n")
    argv = [sys.executable, "-I", "-B", "-m", "pytest", "-c", str(ini), f"--rootdir={hidden}", "--noconftest",
            "-p", "no:cacheprovider", "-o", "addopts=", "-o", f"pythonpath={plugins}", "-p", "grader_results",
            "-p", "grader_hidden_support", "--assert=plain", f"--basetemp={workdir / 'basetemp'}", "-q",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if (plugins / f"{HIDDEN_PLUGIN_MODULE}.py").is_file():
        argv += ["-p", HIDDEN_PLUGIN_MODULE]
    return [*argv, str(hidden)]


def run_hidden_tests(hidden: Path, probe: Path, backend: Path, workdir: Path,
                     databases: dict[str, dict[str, str | None]]) -> list[TestCase]:
    """The verdict of every hidden test (the host's rule: skipped, errored or missing is failed)."""
    _plugins(hidden, workdir / "plugins")
    broker = _start_broker(workdir, probe, backend)
    read_end, write_end = os.pipe()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DATABASE_URL"))}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", GRADER_PROBE_SOCKET=str(workdir / "broker.sock"),
               GRADER_PROBE_DATABASES=json.dumps(databases), **{CHANNEL_ENV: str(write_end)})
    try:
        subprocess.run(_pytest_argv(hidden, workdir, workdir / "plugins"), cwd=workdir, env=env, pass_fds=(write_end,),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
    finally:
        os.close(write_end)
        broker.kill()
        broker.wait()
        if broker.stdout is not None:
            broker.stdout.close()
    with os.fdopen(read_end, "rb") as results:
        run = parse_results(results.read().decode())
    assert run is not None, "the hidden tests did not finish"
    return hidden_verdicts(hidden_test_names(str(hidden)), run)
