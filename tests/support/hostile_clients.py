"""Clients an attacker on the public webhook URL would write, over raw sockets to 127.0.0.1.

They connect from 127.0.0.2 by default (see ATTACKER): a host of its own, as the server counts clients.

Each one does its slow or partial thing and then only waits for the server to hang up; it never closes
first. What it returns is how long the server kept the connection open (seconds since connecting), so
a test can hold that against the server's deadlines. Used by tests/webhooks/test_hostile_clients.py
and by bench/edge_bench.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
# Another loopback address, so the server sees the attacker as a different client than GitHub (whose
# deliveries the tests send from 127.0.0.1). Linux routes all of 127.0.0.0/8 to the loopback device.
ATTACKER = "127.0.0.2"
# Shaped like GitHub's header, so the server reads the body before it can tell the signature is wrong.
FORGED_SIGNATURE = "sha256=" + "0" * 64
_delivery_ids = itertools.count()


async def _closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Read whatever the server says until it closes the connection; the first bytes of it."""
    said = b""
    with contextlib.suppress(ConnectionError):
        while piece := await reader.read(65536):
            said = said or piece
    return said


def _head(port: int, content_length: int) -> bytes:
    return (f"POST /webhooks/github HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
            f"x-github-event: pull_request\r\nx-github-delivery: hostile-{next(_delivery_ids)}\r\n"
            f"x-hub-signature-256: {FORGED_SIGNATURE}\r\ncontent-length: {content_length}\r\n\r\n").encode()


def _connect(port: int, source: str) -> Any:
    return asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def stalled_body(port: int, declared: int, sent: int, source: str = ATTACKER) -> float:
    """Announce a `declared`-byte body, send `sent` bytes of it, then stall."""
    started = time.monotonic()
    reader, writer = await _connect(port, source)
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(_head(port, declared))
            for _ in range(sent // MIB):
                writer.write(b" " * MIB)
                await writer.drain()
        await _closed_by_server(reader)
        return time.monotonic() - started
    finally:
        writer.close()


async def trickling_headers(port: int, every: float, source: str = ATTACKER) -> float:
    """Send the request line, then one header line every `every` seconds, never ending the head."""
    started = time.monotonic()
    reader, writer = await _connect(port, source)
    try:
        await _trickle(reader, writer, every)
        return time.monotonic() - started
    finally:
        writer.close()


async def trickling_after_one_request(port: int, every: float, source: str = ATTACKER) -> float:
    """Ask for /health on a kept-alive connection, then trickle the next request's head; seconds from its
    first byte to the hang-up."""
    reader, writer = await _connect(port, source)
    try:
        await _health(reader, writer, port)
        started = time.monotonic()
        await _trickle(reader, writer, every)
        return time.monotonic() - started
    finally:
        writer.close()


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, every: float) -> None:
    closed = asyncio.create_task(_closed_by_server(reader))
    try:
        writer.write(b"POST /webhooks/github HTTP/1.1\r\n")
        line = 0
        while not closed.done():
            with contextlib.suppress(ConnectionError):
                writer.write(f"x-trickle-{line}: {'a' * 20}\r\n".encode())
                await writer.drain()
            line += 1
            await asyncio.wait({closed}, timeout=every)
    finally:
        closed.cancel()


async def silent(port: int, source: str = ATTACKER) -> float:
    """Connect and say nothing."""
    return (await silent_and_told(port, source))[0]


async def silent_and_told(port: int, source: str = ATTACKER) -> tuple[float, bytes]:
    """Connect and say nothing; also what the server said before it hung up."""
    started = time.monotonic()
    reader, writer = await _connect(port, source)
    try:
        said = await _closed_by_server(reader)
        return time.monotonic() - started, said
    finally:
        writer.close()


async def idle_after_one_request(port: int, source: str = ATTACKER) -> float:
    """Ask for /health on a kept-alive connection, then idle; seconds from the answer to the hang-up."""
    reader, writer = await _connect(port, source)
    try:
        await _health(reader, writer, port)
        answered = time.monotonic()
        await _closed_by_server(reader)
        return time.monotonic() - answered
    finally:
        writer.close()


async def _health(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
    writer.write(f"GET /health HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def sample_rss(pid: int, samples: list[int], every: float = 0.05) -> None:
    """Append the process' RSS to `samples` until cancelled."""
    while True:
        samples.append(rss_bytes(pid))
        await asyncio.sleep(every)
