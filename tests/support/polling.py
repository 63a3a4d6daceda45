"""The one way tests wait for something: poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _expired(deadline: float, what: str, last: object) -> AssertionError:
    return AssertionError(f"{what} did not happen in time (last value: {last!r})")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 30.0, interval: float = 0.02,
                     what: str = "the condition") -> T:
    """The first truthy value of `await probe()`; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _expired(deadline, what, value)
        await asyncio.sleep(interval)


def eventually_sync(probe: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.1,
                    what: str = "the condition") -> T:
    """`eventually` for blocking probes (other processes, HTTP servers)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _expired(deadline, what, value)
        time.sleep(interval)
