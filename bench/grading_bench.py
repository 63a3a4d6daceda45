"""Grading benchmark: `grader check` on the clean fixture against a baseline, peak memory, throughput.

1. Wall time of `grader check --format json` on the clean fixture (container start, PostgreSQL in the
   container, every check, scoring), side by side with a baseline: another checkout of the grader
   (`--baseline-tree`, e.g. an earlier commit's `git archive`) with its own runner image
   (`--baseline-image`). Runs alternate between the two (which goes first alternates too), so a busy
   machine slows both alike; medians of `--runs` each, and the ratio.
2. Peak resident memory of the grading process (`grader check`, the worker's side of a run).
3. Gradings per minute with `--queued` submissions queued and `--workers` grading at once (the
   worker's `grade_checkout`, as `grader worker` runs it), on this machine's cores.

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

FIXTURE = Path("tests/fixtures/submissions/clean")
RUBRIC = Path("tests/fixtures/rubric/grading-test.toml")


@dataclass(frozen=True)
class Grader:
    """One grader to time: a source tree and the runner image built from it."""

    name: str
    tree: Path
    image: str

    def check(self, work: Path) -> tuple[float, float, dict[str, object]]:
        """Seconds, peak RSS in MB of the `grader check` process, and its result."""
        checkout = shutil.copytree(self.tree / FIXTURE, work / "clean")
        output = work / "result.json"
        env = {**os.environ, "PYTHONPATH": str(self.tree), "GRADER_IMAGE": self.image}
        started = time.perf_counter()
        with output.open("w") as handle:
            process = subprocess.Popen([sys.executable, "-m", "grader", "check", str(checkout), "--rubric",
                                        str(self.tree / RUBRIC), "--format", "json"], stdout=handle, env=env,
                                       cwd=self.tree)
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, f"{self.name}: grader check exited with {code}"
        return seconds, usage.ru_maxrss / 1024, json.loads(output.read_text())


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


def side_by_side(graders: list[Grader], runs: int, root: Path) -> dict[str, list[tuple[float, float]]]:
    """Each grader `runs` times, alternating, after one warm-up run each."""
    timings: dict[str, list[tuple[float, float]]] = {grader.name: [] for grader in graders}
    for grader in graders:
        grader.check(root / f"warm-{grader.name}")
    for index in range(runs):
        order = graders if index % 2 == 0 else list(reversed(graders))
        for grader in order:
            seconds, peak, result = grader.check(root / f"{grader.name}{index}")
            assert result["grade"] == "S", (grader.name, result["grade"])
            timings[grader.name].append((seconds, peak))
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
    medians = {name: statistics.median(seconds for seconds, _ in runs) for name, runs in timings.items()}
    for grader in graders:
        spread = ", ".join(f"{seconds:.2f}" for seconds, _ in timings[grader.name])
        print(f"grader check (clean fixture), {grader.name} ({grader.image}), median of {args.runs}: "
              f"{medians[grader.name]:.2f} s  [{spread}]")
    if args.baseline_tree:
        print(f"ratio this tree / baseline: {medians['this tree'] / medians['baseline']:.3f}")
    for grader in graders:
        print(f"peak RSS of one `grader check` process, {grader.name}: "
              f"{max(peak for _, peak in timings[grader.name]):.0f} MB")
    if args.queued:
        print(f"peak RSS of the grading process with {args.workers} gradings at once: {worker_mb:.0f} MB")
        print(f"throughput: {rate:.1f} gradings/min ({args.queued} queued, {args.workers} at once, "
              f"{os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
