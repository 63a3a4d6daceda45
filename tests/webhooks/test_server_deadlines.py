"""The HTTP server's own deadlines, in process: uvicorn with `DeadlineH11Protocol` on a free loopback port.

Short deadlines and a small application that echoes the size of the body it read; each client waits
only for the server to hang up, so every case ends by the server's deadline or the test fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from grader.server import server_config
from grader.settings import HttpSettings
from tests.support.hostile_clients import (
    MIB,
    idle_after_one_request,
    silent_and_told,
    stalled_body,
    trickling_after_one_request,
    trickling_headers,
)
from tests.support.servers import free_port

DEADLINES = HttpSettings(header_timeout_seconds=0.5, body_timeout_seconds=0.8, idle_timeout_seconds=0.5)
SLACK = 2.0


async def echo_size(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, then says how long it was (`/health` answers the same way)."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    chosen = free_port()
    config = server_config(echo_size, DEADLINES, "127.0.0.1", chosen)
    config.lifespan = "off"
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield chosen
    finally:
        server.should_exit = True
        await serving


async def test_server__a_silent_client_is_told_408_and_hung_up_on_at_the_head_deadline(port: int) -> None:
    held, told = await silent_and_told(port)
    assert DEADLINES.header_timeout_seconds * 0.9 <= held <= DEADLINES.header_timeout_seconds + SLACK
    assert told.startswith(b"HTTP/1.1 408 Request Timeout")


async def test_server__trickled_header_lines_do_not_push_the_head_deadline_back(port: int) -> None:
    first, second = await asyncio.gather(trickling_headers(port, every=0.1),
                                         trickling_after_one_request(port, every=0.1))
    assert max(first, second) <= DEADLINES.header_timeout_seconds + SLACK


async def test_server__a_stalled_body_is_cut_off_at_the_body_deadline(port: int) -> None:
    held = await stalled_body(port, declared=4 * MIB, sent=1 * MIB)
    assert DEADLINES.body_timeout_seconds * 0.9 <= held <= DEADLINES.body_timeout_seconds + SLACK


async def test_server__an_idle_kept_alive_connection_is_closed(port: int) -> None:
    assert await idle_after_one_request(port) <= DEADLINES.idle_timeout_seconds + SLACK


async def test_server__a_prompt_client_keeps_its_connection_for_several_requests(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for size in (0, 70_000, 3):
            writer.write(f"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: {size}\r\n\r\n".encode() + b"a" * size)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert await reader.readexactly(len(str(size))) == str(size).encode()
            await asyncio.sleep(0.3)  # under every deadline, between requests
    finally:
        writer.close()
