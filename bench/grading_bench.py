"""Grading benchmark: `grader check` on the clean fixture against the floor, peak memory, throughput.

1. Wall time of `grader check --format json` on the clean fixture (container start, PostgreSQL in the
   container, every check, scoring) against the floor: the same tools with the same options run
   directly in this warm virtualenv on the host, against an already running throwaway PostgreSQL.
   Median of `--runs` each, interleaved, and the ratio.
2. Peak resident memory of the grading process (`grader check`, the worker's side of a run).
3. Gradings per minute with `--queued` submissions queued and `--workers` grading at once (the
   worker's `grade_checkout`, as `grader worker` runs it), on this machine's cores.

    .venv/bin/python bench/grading_bench.py [--runs 5] [--queued 20] [--workers 2]

Needs Docker with the runner image (`grader image build`) and PostgreSQL 15 binaries on the host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.grading.rubric_loader import load_rubric  # noqa: E402
from grader.runner import grade_checkout  # noqa: E402
from grader.runner.harness.steps import COVERAGE_OMIT, HEADS_SCRIPT  # noqa: E402
from grader.settings import load_settings  # noqa: E402
from tests.runner.submissions import TEST_RUBRIC, make_submission  # noqa: E402

BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def host_postgres() -> Iterator[str]:
    """A private PostgreSQL on a unix socket in its own folder, started once (the floor's is warm).

    Yields the socket folder; each floor run gets fresh databases, as each container run does.
    """
    folder = Path(tempfile.mkdtemp(prefix="grading-bench-pg-"))
    data, socket_dir = folder / "data", folder / "run"
    for path in (data, socket_dir):
        path.mkdir(mode=0o700)
    shutil.chown(folder, "postgres")
    for path in (data, socket_dir):
        shutil.chown(path, "postgres")

    def as_postgres(*argv: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", " ".join(argv)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    as_postgres(str(PG_BIN / "initdb"), "--no-sync", "--auth=trust", "-U", "postgres", "-D", str(data))
    options = f"-c listen_addresses= -c unix_socket_directories={socket_dir} -c fsync=off"
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-o", f"'{options}'", "start")
    try:
        yield str(socket_dir)
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def floor_commands(checkout: Path, out: Path, hidden: Path,
                   urls: tuple[str, str]) -> list[tuple[list[str], dict[str, str], Path]]:
    """The harness' commands with the harness' options, on the host."""
    rubric = load_rubric(TEST_RUBRIC, env={})
    backend = str(checkout / "backend")
    ruff = [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
            "--output-file", str(out / "ruff.json"), "--line-length", str(rubric.lint.line_length),
            "--select", ",".join(rubric.lint.select), "--config", f"src = {json.dumps([str(checkout), backend])}",
            "--ignore-noqa", "."]
    pinned = ["--rcfile=/dev/null", f"--data-file={out / '.coverage'}"]
    tests = [str(BIN / "coverage"), "run", *pinned, "--branch", f"--source={backend}", f"--omit={COVERAGE_OMIT}",
             "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={out / 'junit.xml'}", "-o",
             "junit_family=xunit2", "-q"]
    report = [str(BIN / "coverage"), "json", *pinned, "-q", "--ignore-errors", "-o", str(out / "coverage.json")]
    hidden_run = [sys.executable, "-I", "-B", "-m", "pytest", "-c", str(out / "hidden.ini"), f"--rootdir={hidden}",
                  "--noconftest", "-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin", "-o", "addopts=",
                  "-o", f"pythonpath={out / 'plugin'} {backend}", "-o", "asyncio_mode=auto",
                  "-o", "asyncio_default_fixture_loop_scope=function", "-p", "grader_hidden_conftest",
                  f"--junitxml={out / 'hidden.xml'}", "-q", str(hidden)]
    ini = str(checkout / "backend" / "alembic.ini")
    alembic = [str(BIN / "alembic"), "-c", ini]
    migrations = [[*alembic, "upgrade", "head"], [*alembic, "downgrade", "base"], [*alembic, "upgrade", "head"],
                  [*alembic, "check"], [sys.executable, "-c", HEADS_SCRIPT, ini]]
    student_env = {"PYTHONPATH": backend}
    hidden_env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADER_PG_URL": urls[1]}
    steps = [(ruff, {}, checkout), (tests, student_env, checkout), (report, {}, checkout),
             (hidden_run, hidden_env, out)]
    return steps + [(argv, {**student_env, "DATABASE_URL": urls[0]}, checkout / "backend") for argv in migrations]


def fresh_database(socket_dir: str, name: str) -> str:
    subprocess.run([str(PG_BIN / "createdb"), "-h", socket_dir, "-U", "postgres", name], check=True)
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


def run_floor(work: Path, socket_dir: str) -> float:
    checkout = make_submission("clean", work)
    urls = (fresh_database(socket_dir, f"{work.name}_student"), fresh_database(socket_dir, f"{work.name}_hidden"))
    out = work / "out"
    (out / "plugin").mkdir(parents=True)
    hidden = TEST_RUBRIC.parent / "hidden_tests"
    shutil.copyfile(hidden / "conftest.py", out / "plugin" / "grader_hidden_conftest.py")
    (out / "hidden.ini").write_text("[pytest]\n")
    base = {"PATH": os.environ["PATH"], "HOME": str(work), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    for argv, env, cwd in floor_commands(checkout, out, hidden, urls):
        done = subprocess.run(argv, cwd=cwd, env={**base, **env}, check=False, capture_output=True, text=True)
        assert done.returncode == 0, f"floor step failed: {argv[:3]}: {done.stdout[-500:]}{done.stderr[-500:]}"
    return time.perf_counter() - started


def run_check(work: Path) -> tuple[float, float, dict[str, object]]:
    """Seconds, peak RSS in MB of the `grader check` process (and its docker client), and its result."""
    checkout = make_submission("clean", work)
    output = work / "result.json"
    started = time.perf_counter()
    with output.open("w") as handle:
        process = subprocess.Popen([str(BIN / "grader"), "check", str(checkout), "--rubric", str(TEST_RUBRIC),
                                    "--format", "json"], stdout=handle)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"grader check exited with {process.returncode}"
    return seconds, usage.ru_maxrss / 1024, json.loads(output.read_text())


async def throughput(parent: Path, queued: int, workers: int) -> float:
    rubric = load_rubric(TEST_RUBRIC)
    settings = load_settings().runner
    checkouts = [make_submission("clean", parent / f"q{index}") for index in range(queued)]
    gate = asyncio.Semaphore(workers)

    async def grade(checkout: Path) -> None:
        async with gate:
            await grade_checkout(checkout, rubric, settings)

    started = time.perf_counter()
    await asyncio.gather(*(grade(checkout) for checkout in checkouts))
    return queued / ((time.perf_counter() - started) / 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queued", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        root = Path(folder)
        checks, floors, peaks = [], [], []
        with host_postgres() as socket_dir:
            run_floor(root / "warm_floor", socket_dir)  # warm the host's caches before timing
            run_check(root / "warm-check")
            for index in range(args.runs):
                floors.append(run_floor(root / f"floor{index}", socket_dir))
                seconds, peak, result = run_check(root / f"check{index}")
                checks.append(seconds)
                peaks.append(peak)
                assert result["grade"] == "S", result["grade"]
        rate = asyncio.run(throughput(root / "queue", args.queued, args.workers))
        worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    check, floor = statistics.median(checks), statistics.median(floors)
    print(f"grader check (clean fixture), median of {args.runs}: {check:.2f} s")
    print(f"same tools on the host (floor), median of {args.runs}: {floor:.2f} s")
    print(f"ratio: {check / floor:.2f}   overhead: {check - floor:.2f} s")
    print(f"peak RSS of one `grader check` process: {max(peaks):.0f} MB")
    print(f"peak RSS of the grading process with {args.workers} gradings at once: {worker_mb:.0f} MB")
    print(f"throughput: {rate:.1f} gradings/min ({args.queued} queued, {args.workers} at once, "
          f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
