"""The webhook edge under hostile clients: memory and connection lifetime, beside a baseline.

The baseline is a bare Litestar endpoint that reads the whole body before anything else, under
uvicorn's defaults: the shape of the edge before it streamed and verified bodies and before the server
had request deadlines. Both run on 127.0.0.1 and get, one scenario after the other:

  - stalled bodies: N connections each announce 25 MiB, send M MiB of it and stall (the issue: 40 x 24);
  - trickling heads: N connections each send a header line every few seconds and never finish the head.

Reported per server and scenario: RSS before, peak RSS, growth per connection, how many connections the
server had closed after each observation window, and whether a signed delivery sent in the middle of
the attack was queued. The attackers connect from 127.0.0.2, the delivery from 127.0.0.1.

    .venv/bin/python bench/edge_bench.py [--stalled 40] [--stalled-mib 24] [--trickling 300]
                                         [--trickle-every 10] [--observe 30]

A stalled body is spooled to the temporary directory beyond the in-memory part: the default run writes
up to 32 x 24 MiB there for at most GRADER_HTTP_BODY_TIMEOUT seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.hostile_clients import MIB, rss_bytes, sample_rss, stalled_body, trickling_headers  # noqa: E402
from tests.support.servers import free_port, service_env  # noqa: E402
from tests.support.webhooks import pull_request_payload, signed_delivery  # noqa: E402

SECRET = "bench-secret"
BARE_APP = '''
from litestar import Litestar, Request, post

@post("/webhooks/github", status_code=202, request_max_body_size=25 * 1024 * 1024)
async def receive(request: Request) -> dict:
    await request.body()
    return {"status": "queued"}

app = Litestar([receive])
'''


def start_server(kind: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if kind == "grader":
        env = service_env(DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/bench.db", GITHUB_WEBHOOK_SECRET=SECRET,
                          GRADER_WORKERS="0")
        command = [sys.executable, "-m", "grader", "serve", "--port", str(port)]
    else:
        (workdir / "bare_app.py").write_text(BARE_APP)
        env = service_env(PYTHONPATH=str(workdir))
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level", "warning",
                   "--no-access-log"]
    with (workdir / f"{kind}.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"http://127.0.0.1:{port}/webhooks/github", content=b"{}", timeout=0.5)
            break
        time.sleep(0.1)
    return process, port


_pushes = itertools.count(1)


async def _signed_delivery_status(port: int) -> int:
    """A new push each time (so 202 means queued), sent from 127.0.0.1 like GitHub's."""
    body, headers = signed_delivery(pull_request_payload(sha=f"{next(_pushes):040x}"), secret=SECRET)
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"http://127.0.0.1:{port}/webhooks/github", content=body, headers=headers)
    return response.status_code


async def attack(process: subprocess.Popen[bytes], port: int, clients: list, observe: float) -> dict[str, object]:
    """Run `clients` (coroutines that return when the server hangs up); report memory and hang-ups."""
    samples: list[int] = []
    before = rss_bytes(process.pid)
    sampler = asyncio.create_task(sample_rss(process.pid, samples, every=0.2))
    tasks = [asyncio.create_task(client) for client in clients]
    await asyncio.sleep(min(3.0, observe / 2))
    delivery = await _signed_delivery_status(port)
    await asyncio.wait(tasks, timeout=max(0.0, observe - min(3.0, observe / 2)))
    closed = [task.result() for task in tasks if task.done() and not task.exception()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    sampler.cancel()
    peak = max(samples)
    return {"rss_before_mib": round(before / MIB, 1), "rss_peak_mib": round(peak / MIB, 1),
            "growth_per_connection_mib": round((peak - before) / MIB / len(clients), 2),
            f"closed_by_server_within_{observe:g}s": f"{len(closed)}/{len(clients)}",
            "median_seconds_to_close": round(statistics.median(closed), 1) if closed else None,
            "signed_delivery_during_attack": delivery}


async def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    process, port = start_server(kind, workdir)
    try:
        stalled = [stalled_body(port, declared=25 * MIB, sent=args.stalled_mib * MIB) for _ in range(args.stalled)]
        stalled_report = await attack(process, port, stalled, args.observe)
        await asyncio.sleep(1)
        trickling = [trickling_headers(port, every=args.trickle_every) for _ in range(args.trickling)]
        trickling_report = await attack(process, port, trickling, args.observe)
    finally:
        process.terminate()
        process.wait()
    return {"stalled_bodies": stalled_report, "trickling_heads": trickling_report}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalled", type=int, default=40)
    parser.add_argument("--stalled-mib", type=int, default=24)
    parser.add_argument("--trickling", type=int, default=300)
    parser.add_argument("--trickle-every", type=float, default=10.0)
    parser.add_argument("--observe", type=float, default=30.0, help="seconds each scenario is watched")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        report = {"bare_litestar": await measure("bare", args, workdir),
                  "grader_serve": await measure("grader", args, workdir)}
    print(json.dumps({"scenario": vars(args), **report}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
