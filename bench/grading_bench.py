"""Grading benchmark: `grader check` on the clean fixture against a baseline, peak memory, throughput.

1. Wall time of `grader check --format json` on the clean fixture (container start, PostgreSQL in the
   container, every check, scoring), side by side with a baseline: another checkout of the grader
   (`--baseline-tree`, e.g. an earlier commit's `git archive`) with its own runner image
   (`--baseline-image`). Runs alternate between the two (which goes first alternates too), so a busy
   machine slows both alike; medians of `--runs` each, and the ratio.
2. CPU seconds per grading: the containers' (Docker's cgroup, which keeps what removed containers
   used) plus the `grader check` process's own, medians; and the migration step's wall time. The CPU
   limit is the gradings per minute this machine's cores could give if CPU were the only limit
   (60 s x cores / CPU seconds per grading). Needs no other container running meanwhile.
3. Peak resident memory of the grading process (`grader check`, the worker's side of a run).
4. Gradings per minute with `--queued` submissions queued and `--workers` grading at once (the
   worker's `grade_checkout`, as `grader worker` runs it), on this machine's cores, and their share
   of the CPU limit.

    .venv/bin/python bench/grading_bench.py [--runs 5] [--queued 20] [--workers 2] [--image TAG]
        [--baseline-tree DIR --baseline-image TAG]

Needs Docker with the runner images (`grader image build`).
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
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.grading.rubric_loader import load_rubric  # noqa: E402
from grader.pipeline.checkout import grade_checkout  # noqa: E402
from grader.settings import load_settings  # noqa: E402

CGROUP_USAGE = (Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"),  # cgroup v1: nanoseconds
                Path("/sys/fs/cgroup/docker/cpu.stat"))  # cgroup v2: usage_usec
FIXTURE = Path("tests/fixtures/submissions/clean")
RUBRIC = Path("tests/fixtures/rubric/grading-test.toml")


def containers_cpu_seconds() -> float | None:
    """CPU seconds every Docker container used so far (removed ones included); None when unreadable."""
    v1, v2 = CGROUP_USAGE
    if v1.exists():
        return int(v1.read_text()) / 1e9
    if v2.exists():
        fields = dict(line.split() for line in v2.read_text().splitlines())
        return int(fields["usage_usec"]) / 1e6
    return None


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    cpu_seconds: float | None  # the containers' and the grader process's
    migrations_seconds: float


@dataclass(frozen=True)
class Grader:
    """One grader to time: a source tree and the runner image built from it."""

    name: str
    tree: Path
    image: str

    def check(self, work: Path) -> tuple[Run, dict[str, object]]:
        """Seconds, peak RSS in MB and CPU of the `grader check` run, and its result."""
        checkout = shutil.copytree(self.tree / FIXTURE, work / "clean")
        output = work / "result.json"
        env = {**os.environ, "PYTHONPATH": str(self.tree), "GRADER_IMAGE": self.image}
        started, cpu_before = time.perf_counter(), containers_cpu_seconds()
        with output.open("w") as handle:
            process = subprocess.Popen([sys.executable, "-m", "grader", "check", str(checkout), "--rubric",
                                        str(self.tree / RUBRIC), "--format", "json"], stdout=handle, env=env,
                                       cwd=self.tree)
            _, status, usage = os.wait4(process.pid, 0)
        seconds, cpu_after = time.perf_counter() - started, containers_cpu_seconds()
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, f"{self.name}: grader check exited with {code}"
        result = json.loads(output.read_text())
        cpu = cpu_after - cpu_before + usage.ru_utime + usage.ru_stime \
            if cpu_before is not None and cpu_after is not None else None
        migrations = next(step["duration_seconds"] for step in result["report"]["steps"] if step["id"] == "migrations")
        return Run(seconds, usage.ru_maxrss / 1024, cpu, migrations), result


async def throughput(parent: Path, image: str, queued: int, workers: int) -> float:
    rubric = load_rubric(ROOT / RUBRIC)
    settings = replace(load_settings().runner, image=image)
    checkouts = [shutil.copytree(ROOT / FIXTURE, parent / f"q{index}") for index in range(queued)]
    gate = asyncio.Semaphore(workers)

    async def grade(checkout: Path) -> None:
        async with gate:
            await grade_checkout(checkout, rubric, settings)

    started = time.perf_counter()
    await asyncio.gather(*(grade(checkout) for checkout in checkouts))
    return queued / ((time.perf_counter() - started) / 60)


def side_by_side(graders: list[Grader], runs: int, root: Path) -> dict[str, list[Run]]:
    """Each grader `runs` times, alternating, after one warm-up run each."""
    timings: dict[str, list[Run]] = {grader.name: [] for grader in graders}
    for grader in graders:
        grader.check(root / f"warm-{grader.name}")
    for index in range(runs):
        order = graders if index % 2 == 0 else list(reversed(graders))
        for grader in order:
            run, result = grader.check(root / f"{grader.name}{index}")
            assert result["grade"] == "S", (grader.name, result["grade"])
            timings[grader.name].append(run)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queued", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--image", default=load_settings().runner.image)
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--baseline-image", default="grader-runner:latest")
    args = parser.parse_args()
    graders = [Grader("this tree", ROOT, args.image)]
    if args.baseline_tree:
        graders.insert(0, Grader("baseline", args.baseline_tree.resolve(), args.baseline_image))
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        root = Path(folder)
        timings = side_by_side(graders, args.runs, root)
        rate = asyncio.run(throughput(root / "queue", args.image, args.queued, args.workers)) if args.queued else 0
        worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    medians = {name: statistics.median(run.seconds for run in runs) for name, runs in timings.items()}
    limits = {name: cpu_limit(runs) for name, runs in timings.items()}
    for grader in graders:
        runs = timings[grader.name]
        spread = ", ".join(f"{run.seconds:.2f}" for run in runs)
        print(f"grader check (clean fixture), {grader.name} ({grader.image}), median of {args.runs}: "
              f"{medians[grader.name]:.2f} s  [{spread}]; migration step "
              f"{statistics.median(run.migrations_seconds for run in runs):.2f} s")
        cpu = [run.cpu_seconds for run in runs if run.cpu_seconds is not None]
        if cpu:
            print(f"  CPU per grading {statistics.median(cpu):.2f} s [{', '.join(f'{c:.2f}' for c in cpu)}]; "
                  f"CPU limit {limits[grader.name]:.1f} gradings/min on {os.cpu_count()} cores")
    if args.baseline_tree:
        print(f"ratio this tree / baseline: {medians['this tree'] / medians['baseline']:.3f}")
        if limits["this tree"] and limits["baseline"]:
            print(f"CPU limit ratio this tree / baseline: {limits['this tree'] / limits['baseline']:.3f}")
    for grader in graders:
        print(f"peak RSS of one `grader check` process, {grader.name}: "
              f"{max(run.peak_mb for run in timings[grader.name]):.0f} MB")
    if args.queued:
        print(f"peak RSS of the grading process with {args.workers} gradings at once: {worker_mb:.0f} MB")
        share = f", {rate / limits['this tree']:.2f} of the CPU limit" if limits["this tree"] else ""
        print(f"throughput: {rate:.1f} gradings/min ({args.queued} queued, {args.workers} at once, "
              f"{os.cpu_count()} cores){share}")


def cpu_limit(runs: list[Run]) -> float:
    """Gradings per minute if CPU were the only limit (0 when CPU could not be measured)."""
    cpu = [run.cpu_seconds for run in runs if run.cpu_seconds]
    return 60 * (os.cpu_count() or 1) / statistics.median(cpu) if cpu else 0.0


if __name__ == "__main__":
    main()
