"""Webhook intake benchmark: signed `pull_request` deliveries through a real `grader serve`.

Compares, in the same run and on the same machine, with a bare Litestar endpoint that only reads the
body (the floor of the web stack), and reports:
  - saturation throughput (deliveries/s) with a fixed number of keep-alive connections;
  - p50/p99 latency at a fixed offered rate (open loop, default 200 deliveries/s).

    .venv/bin/python bench/webhook_bench.py [--database-url URL] [--requests 4000] [--rate 200]

The load generator speaks raw HTTP/1.1 over asyncio streams so the client costs little of the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
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


def raw_requests(count: int, port: int, phase: str) -> list[bytes]:
    """`count` distinct deliveries (new delivery ids and head SHAs), spread over 500 pull requests."""
    requests = []
    offset = {"warmup": 0, "saturate": 10**6, "rate": 2 * 10**6}[phase]
    for index in range(offset, offset + count):
        payload = pull_request_payload(sha=f"{os.getpid():08x}{index:032x}", number=1 + index % 500,
                                       login=f"student{index % 500}")
        body, headers = signed_delivery(payload, secret=SECRET, delivery_id=f"bench-{os.getpid()}-{index}")
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


def start_server(kind: str, database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if kind == "grader":
        env = service_env(DATABASE_URL=database_url, GITHUB_WEBHOOK_SECRET=SECRET, GRADER_WORKERS="0")
        command = [sys.executable, "-m", "grader", "serve", "--port", str(port)]
    else:
        (workdir / "bare_app.py").write_text(BARE_APP)
        env = service_env(PYTHONPATH=str(workdir))
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level", "warning",
                   "--no-access-log"]
    with (workdir / f"{kind}.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    process, port = start_server(kind, args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db", workdir)
    try:
        await saturate(port, raw_requests(200, port, "warmup"), 8)  # warm-up: imports, caches, the schema, the pool
        throughput, statuses = await saturate(port, raw_requests(args.requests, port, "saturate"), args.connections)
        latencies, rate_statuses = await fixed_rate(port, raw_requests(int(args.rate * args.seconds), port, "rate"),
                                                    args.rate)
    finally:
        process.terminate()
        process.wait()
    bad = [status for status in statuses + rate_statuses if status not in (200, 202)]
    if kind == "grader" and statuses.count(202) + rate_statuses.count(202) != len(statuses) + len(rate_statuses):
        raise SystemExit(f"{kind}: some deliveries were not queued; see {workdir}/{kind}.log")
    if bad:
        raise SystemExit(f"{kind}: {len(bad)} responses were not 2xx, e.g. {bad[0]}; see {workdir}/{kind}.log")
    return {"throughput_per_s": round(throughput, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        bare = await measure("bare", args, workdir)
        grader = await measure("grader", args, workdir)
    ratio = round(grader["throughput_per_s"] / bare["throughput_per_s"], 3)
    print(json.dumps({"database": args.database_url.split("://")[0] or "sqlite+aiosqlite",
                      "bare_litestar": bare, "grader_serve": grader, "throughput_ratio": ratio}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
