"""Feedback latency: how long a student waits for the comment once their grading is done, and from
the push, through a real `grader serve` (one worker) and the fake GitHub; grading is canned
(`bench/canned_grading.py`: a fixed time, a real report), publishing is the service's own.

Two scenarios, each run for this tree and, side by side in the same run, for `--baseline-tree`:
  - burst: `--burst` pushes (default 50) to as many pull requests arrive at once; for each, the time
    from its grading job finishing to its comment posted (publish job finished), p50/p95/max;
  - single: one push at a time to an idle service, `--single` times at random moments; push → comment
    (the delivery's receipt to the publish job's end) against its floor, the two jobs' own run times
    (from the worker's log), as a ratio.

    .venv/bin/python bench/publish_bench.py [--baseline-tree DIR] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakegithub.server import FakeGitHub  # noqa: E402
from tests.fakegithub.server import serve as serve_fake_github  # noqa: E402
from tests.support.polling import eventually_sync  # noqa: E402
from tests.support.servers import ServiceProcess, _wait_until_healthy, free_port, service_env, spawn, stop  # noqa: E402
from tests.support.webhooks import pull_request_payload, signed_delivery  # noqa: E402

SECRET = "bench-secret"
TOKEN = "bench-token"


def _push(base_url: str, number: int, sha: str) -> None:
    payload = pull_request_payload("opened", sha=sha, number=number, repo_id=4242)
    body, headers = signed_delivery(payload, secret=SECRET)
    httpx.post(f"{base_url}/webhooks/github", content=body, headers=headers, timeout=10).raise_for_status()


def _start(tree: Path, workdir: Path, fake: FakeGitHub, grading_seconds: float) -> tuple[ServiceProcess, Path]:
    database = workdir / f"{tree.name}-{time.monotonic_ns()}.db"
    port = free_port()
    env = service_env(DATABASE_URL=f"sqlite+aiosqlite:///{database}", GITHUB_WEBHOOK_SECRET=SECRET,
                      GITHUB_API_URL=fake.base_url, GITHUB_TOKEN=TOKEN, GRADER_WORKERS="1",
                      GRADER_JOB_PROCESSOR="canned_grading:process", GRADER_BENCH_GRADING_SECONDS=str(grading_seconds),
                      PYTHONPATH=f"{tree}{os.pathsep}{tree / 'bench'}")
    log = workdir / f"serve-{port}.log"
    service = ServiceProcess(spawn(["serve", "--port", str(port)], env, log), f"http://127.0.0.1:{port}", log)
    _wait_until_healthy(service, timeout=60)
    return service, database


def _when(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _jobs(database: Path) -> dict[int, dict[str, float]]:
    """Per submission: received, grading finished, publish finished (epoch seconds)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT s.id, s.received_at, g.finished_at, p.finished_at, g.id, p.id FROM submissions s "
            "JOIN jobs g ON g.submission_id = s.id AND g.kind = 'grade' "
            "JOIN jobs p ON p.submission_id = s.id AND p.kind = 'publish' "
            "WHERE g.status = 'done' AND p.status = 'done'").fetchall()
    return {row[0]: {"received": _when(row[1]), "graded": _when(row[2]), "published": _when(row[3]),
                     "grade_job": row[4], "publish_job": row[5]} for row in rows}


def _run_times(log: Path) -> dict[int, float]:
    """Each finished job's own run time (claim to done), from the worker's log, in seconds."""
    times = {}
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"outcome": "done"' in line:
            record = json.loads(line)
            times[record["job_id"]] = record["duration_ms"] / 1000
    return times


def _wait_published(database: Path, count: int, timeout: float) -> dict[int, dict[str, float]]:
    def published() -> dict[int, dict[str, float]] | None:
        jobs = _jobs(database)
        return jobs if len(jobs) >= count else None

    return eventually_sync(published, timeout=timeout, interval=0.2, what=f"{count} comments posted")


def burst(tree: Path, workdir: Path, count: int, grading_seconds: float) -> dict[str, float]:
    fake = FakeGitHub(token=TOKEN)
    with serve_fake_github(fake):
        service, database = _start(tree, workdir, fake, grading_seconds)
        try:
            for number in range(1, count + 1):
                _push(service.base_url, number, f"{number:040x}")
            jobs = _wait_published(database, count, timeout=count * (grading_seconds + 10) + 60)
        finally:
            stop(service.process)
    waits = sorted(job["published"] - job["graded"] for job in jobs.values())
    return {"p50_s": round(statistics.median(waits), 3), "p95_s": round(waits[int(0.95 * (len(waits) - 1))], 3),
            "max_s": round(waits[-1], 3)}


def single(tree: Path, workdir: Path, count: int, grading_seconds: float) -> dict[str, float]:
    fake = FakeGitHub(token=TOKEN)
    with serve_fake_github(fake):
        service, database = _start(tree, workdir, fake, grading_seconds)
        try:
            time.sleep(1.0)
            for number in range(1, count + 1):
                time.sleep(random.uniform(0.3, 1.3))  # a random moment relative to any poll
                _push(service.base_url, number, f"{number:040x}")
                _wait_published(database, number, timeout=60)
            jobs = _jobs(database)
            run_times = _run_times(service.log_path)
        finally:
            stop(service.process)
    ratios, totals = [], []
    for job in jobs.values():
        floor = run_times[job["grade_job"]] + run_times[job["publish_job"]]
        totals.append(job["published"] - job["received"])
        ratios.append(totals[-1] / floor)
    return {"push_to_comment_median_s": round(statistics.median(totals), 3),
            "ratio_to_floor_median": round(statistics.median(ratios), 3),
            "ratio_to_floor_max": round(max(ratios), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--single", type=int, default=10)
    parser.add_argument("--grading-seconds", type=float, default=0.5)
    args = parser.parse_args()
    trees = {"new": ROOT}
    if args.baseline_tree:
        trees["baseline"] = Path(args.baseline_tree).resolve()
    results: dict[str, dict[str, list[dict[str, float]]]] = {name: {"burst": [], "single": []} for name in trees}
    loads = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        for round_ in range(args.rounds):
            names = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in names:
                results[name]["burst"].append(burst(trees[name], workdir, args.burst, args.grading_seconds))
                results[name]["single"].append(single(trees[name], workdir, args.single, args.grading_seconds))
            loads.append(round(os.getloadavg()[0], 1))
            print(f"round {round_ + 1} done, load average {loads[-1]}", file=sys.stderr, flush=True)
    print(json.dumps({"grading_seconds": args.grading_seconds, "burst": args.burst, "single": args.single,
                      "load_average_after_each_round": loads, "results": results}, indent=2))


if __name__ == "__main__":
    main()
