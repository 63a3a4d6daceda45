"""Resident memory of an idle `grader serve` (one worker) after start-up on a fresh SQLite file (the
schema migrated) and two requests, this tree against `--baseline-tree`, alternating, medians of
`--rounds`. The baseline migrates in its own process, so Alembic, Mako and the migration scripts stay
loaded there; this tree migrates in a child process.

    .venv/bin/python bench/serve_rss.py --baseline-tree DIR [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import ServiceProcess, _wait_until_healthy, free_port, service_env, spawn, stop  # noqa: E402

SECRET = "bench-secret"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def measure(tree: Path, workdir: Path) -> dict[str, float]:
    port = free_port()
    env = service_env(DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/{time.monotonic_ns()}.db",
                      GITHUB_WEBHOOK_SECRET=SECRET, GRADER_WORKERS="1", PYTHONPATH=str(tree))
    log = workdir / f"serve-{port}.log"
    service = ServiceProcess(spawn(["serve", "--port", str(port)], env, log), f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_healthy(service, timeout=60)
        httpx.get(f"{service.base_url}/api/submissions", timeout=10)
        httpx.get(f"{service.base_url}/ready", timeout=10)
        time.sleep(1.0)
        rss = _rss_kib(service.process.pid) / 1024
    finally:
        stop(service.process)
    return {"rss_mib": round(rss, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"new": ROOT, "baseline": Path(args.baseline_tree).resolve()}
    runs: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as directory:
        for round_ in range(args.rounds):
            for name in (list(trees) if round_ % 2 == 0 else list(reversed(trees))):
                runs[name].append(measure(trees[name], Path(directory))["rss_mib"])
    medians = {name: statistics.median(values) for name, values in runs.items()}
    print(json.dumps({"rss_mib": runs, "medians": medians,
                      "new/baseline": round(medians["new"] / medians["baseline"], 3),
                      "load_average": round(os.getloadavg()[0], 1)}, indent=2))


if __name__ == "__main__":
    main()
