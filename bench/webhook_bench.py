"""Webhook intake benchmark: signed `pull_request` deliveries through a real `grader serve`.

Compares, in the same run and on the same machine, with a bare Litestar endpoint that only reads the
body (the floor of the web stack), and optionally with `grader serve` of another checkout
(`--baseline-tree`), and reports per variant:
  - saturation throughput (deliveries/s) with a fixed number of keep-alive connections;
  - p50/p99 latency at a fixed offered rate (open loop, default 200 deliveries/s), deliveries alone, as
    the bare endpoint gets them;
  - for grader: the p95 of `GET /api/submissions?limit=50` on the idle server and while the fixed
    rate of deliveries comes in again (one request at a time, alongside), and the deliveries' p99 then.

The variants run in rounds (default 5), each on a fresh server and database, the order rotated every
round so that neither always runs first or last on a machine whose load changes; it prints each
variant's medians and the per-round ratios.

    .venv/bin/python bench/webhook_bench.py [--database-url URL] [--rounds 5] [--baseline-tree DIR]

The load generator speaks raw HTTP/1.1 over asyncio streams so the client costs little of the 2 cores.
A PostgreSQL database given to it is used as it is (deliveries accumulate); SQLite gets a fresh file.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, service_env  # noqa: E402
from tests.support.webhooks import pull_request_payload, signed_delivery  # noqa: E402

SECRET = "bench-secret"
BARE_APP = '''
from litestar import Litestar, Request, post

@post("/webhooks/github", status_code=202)
async def receive(request: Request) -> dict:
    await request.body()
    return {"status": "queued"}

app = Litestar([receive])
'''


_BATCHES = itertools.count()


def raw_requests(count: int, port: int) -> list[bytes]:
    """`count` deliveries never sent before by this run (new delivery ids and head SHAs, also on a
    PostgreSQL database that every variant shares), spread over 500 pull requests."""
    requests = []
    batch = next(_BATCHES)
    for index in range(count):
        payload = pull_request_payload(sha=f"{os.getpid():08x}{batch:08x}{index:024x}", number=1 + index % 500,
                                       login=f"student{index % 500}")
        body, headers = signed_delivery(payload, secret=SECRET, delivery_id=f"bench-{os.getpid()}-{batch}-{index}")
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        requests.append((f"POST /webhooks/github HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{head}"
                         f"content-length: {len(body)}\r\n\r\n").encode() + body)
    return requests


async def _send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def saturate(port: int, requests: list[bytes], connections: int) -> tuple[float, list[int]]:
    queue = list(reversed(requests))
    statuses: list[int] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            statuses.append(await _send(reader, writer, queue.pop()))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return len(requests) / (time.perf_counter() - started), statuses


async def fixed_rate(port: int, requests: list[bytes], rate: float) -> tuple[list[float], list[int]]:
    """Open loop: request i is due at i/rate whatever happened before; latency counts from when it was due."""
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    statuses: list[int] = []
    started = time.perf_counter()

    async def one(index: int, request: bytes) -> None:
        due = started + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        connection = await pool.get()
        statuses.append(await _send(*connection, request))
        latencies.append(time.perf_counter() - due)
        pool.put_nowait(connection)

    await asyncio.gather(*(one(index, request) for index, request in enumerate(requests)))
    while not pool.empty():
        pool.get_nowait()[1].close()
    return latencies, statuses


def start_server(kind: str, tree: Path, database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if kind == "bare":
        (workdir / "bare_app.py").write_text(BARE_APP)
        env = service_env(PYTHONPATH=str(workdir))
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level", "warning",
                   "--no-access-log"]
    else:
        env = service_env(DATABASE_URL=database_url, GITHUB_WEBHOOK_SECRET=SECRET, GRADER_WORKERS="0",
                          PYTHONPATH=str(tree))
        command = [sys.executable, "-m", "grader", "serve", "--port", str(port)]
    with (workdir / f"{kind}.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, port


def api_token(tree: Path, database_url: str, workdir: Path) -> str:
    """A read token made by that tree's own `grader token create` (which also migrates the database)."""
    env = service_env(DATABASE_URL=database_url, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-m", "grader", "token", "create", f"bench-{time.monotonic_ns()}"],
                          env=env, cwd=workdir, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def api_latencies(port: int, token: str, until: asyncio.Event | None, count: int) -> list[float]:
    """Sequential `GET /api/submissions?limit=50`: `count` of them, or until `until` is set."""
    timings: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        while (until is None and len(timings) < count) or (until is not None and not until.is_set()):
            started = time.perf_counter()
            (await client.get("/api/submissions?limit=50")).raise_for_status()
            timings.append(time.perf_counter() - started)
    return timings


async def api_under_load(port: int, token: str, args: argparse.Namespace) -> tuple[dict[str, float], list[int]]:
    """The API's p95 idle, then alongside the fixed rate of new deliveries (and their p99 meanwhile)."""
    await api_latencies(port, token, None, 20)  # warm-up
    idle = await api_latencies(port, token, None, 200)
    done = asyncio.Event()
    loaded = asyncio.create_task(api_latencies(port, token, done, 0))
    latencies, statuses = await fixed_rate(port, raw_requests(int(args.rate * args.seconds), port), args.rate)
    done.set()
    return {"api_idle_p95_ms": round(percentile(idle, 0.95) * 1000, 2),
            "api_loaded_p95_ms": round(percentile(await loaded, 0.95) * 1000, 2),
            "p99_with_api_ms": round(percentile(latencies, 0.99) * 1000, 2)}, statuses


async def measure(kind: str, tree: Path, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/{kind}-{time.monotonic_ns()}.db"
    token = api_token(tree, url, workdir) if kind != "bare" else ""
    process, port = start_server(kind, tree, url, workdir)
    api: dict[str, float] = {}
    try:
        await saturate(port, raw_requests(200, port), 8)  # warm-up: imports, caches, the schema, the pool
        throughput, statuses = await saturate(port, raw_requests(args.requests, port), args.connections)
        latencies, rate_statuses = await fixed_rate(port, raw_requests(int(args.rate * args.seconds), port),
                                                    args.rate)
        if token:
            api, api_statuses = await api_under_load(port, token, args)
            rate_statuses += api_statuses
    finally:
        process.terminate()
        process.wait()
    bad = [status for status in statuses + rate_statuses if status not in (200, 202)]
    if kind != "bare" and statuses.count(202) + rate_statuses.count(202) != len(statuses) + len(rate_statuses):
        raise SystemExit(f"{kind}: some deliveries were not queued; see {workdir}/{kind}.log")
    if bad:
        raise SystemExit(f"{kind}: {len(bad)} responses were not 2xx, e.g. {bad[0]}; see {workdir}/{kind}.log")
    return {"throughput_per_s": round(throughput, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2), **api}


def _ratios(runs: dict[str, list[dict[str, float]]], top: str, bottom: str, key: str,
            key_below: str | None = None) -> list[float]:
    return [round(a[key] / b[key_below or key], 3) for a, b in zip(runs[top], runs[bottom], strict=True)]


def summary(runs: dict[str, list[dict[str, float]]]) -> dict[str, object]:
    medians = {name: {key: statistics.median(run[key] for run in rounds) for key in rounds[0]}
               for name, rounds in runs.items()}
    ratios: dict[str, list[float]] = {
        "grader/bare throughput": _ratios(runs, "grader", "bare", "throughput_per_s"),
        "grader/bare p99 at the fixed rate": _ratios(runs, "grader", "bare", "p99_ms"),
        "grader API p95 loaded/idle": _ratios(runs, "grader", "grader", "api_loaded_p95_ms", "api_idle_p95_ms"),
        "grader p99 with the API alongside / bare p99": _ratios(runs, "grader", "bare", "p99_with_api_ms", "p99_ms"),
    }
    if "baseline" in runs:
        ratios.update({
            "baseline/bare throughput": _ratios(runs, "baseline", "bare", "throughput_per_s"),
            "baseline/bare p99 at the fixed rate": _ratios(runs, "baseline", "bare", "p99_ms"),
            "baseline API p95 loaded/idle": _ratios(runs, "baseline", "baseline", "api_loaded_p95_ms",
                                                    "api_idle_p95_ms"),
            "baseline p99 with the API alongside / bare p99": _ratios(runs, "baseline", "bare", "p99_with_api_ms",
                                                                      "p99_ms"),
            "grader/baseline throughput": _ratios(runs, "grader", "baseline", "throughput_per_s"),
        })
    return {"medians": medians,
            "ratios per round (median)": {name: {"rounds": values, "median": statistics.median(values)}
                                          for name, values in ratios.items()}}


def _trees(baseline: str | None) -> dict[str, Path]:
    trees = {"bare": ROOT, "grader": ROOT}
    if baseline:
        trees["baseline"] = Path(baseline).resolve()
    return trees


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file per server")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-tree", default=None, help="another checkout whose grader serve to compare")
    args = parser.parse_args()
    trees = _trees(args.baseline_tree)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    loads = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        names = list(trees)
        for round_ in range(args.rounds):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                runs[name].append(await measure(name, trees[name], args, workdir))
            loads.append(round(os.getloadavg()[0], 1))
            print(f"round {round_ + 1} done, load average {loads[-1]}", file=sys.stderr, flush=True)
    print(json.dumps({"database": args.database_url.split("://")[0] or "sqlite+aiosqlite",
                      "load_average_after_each_round": loads, "cpus": os.cpu_count(), **summary(runs)}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
