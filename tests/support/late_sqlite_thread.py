"""Run `grader ARGS…` with aiosqlite's connection threads slowed down and the interpreter kept alive a
moment after `main` returns: the schedule under which a driver thread finishing after the event loop
closed would print its traceback. Used by the CLI tests to make that race happen every time."""

from __future__ import annotations

import atexit
import sys
import time
from queue import SimpleQueue
from typing import Any

import aiosqlite.core

_worker = aiosqlite.core._connection_worker_thread


class _LateQueue:
    def __init__(self, queue: SimpleQueue[Any]) -> None:
        self.queue = queue

    def get(self) -> Any:
        item = self.queue.get()
        time.sleep(0.05)
        return item


def _late_worker(queue: SimpleQueue[Any]) -> None:
    _worker(_LateQueue(queue))  # type: ignore[arg-type]


class _Thread(aiosqlite.core.Thread):
    def __init__(self, target: Any = None, args: tuple[Any, ...] = ()) -> None:
        super().__init__(target=_late_worker if target is _worker else target, args=args)


if __name__ == "__main__":
    aiosqlite.core.Thread = _Thread  # type: ignore[misc]
    atexit.register(time.sleep, 0.3)
    from grader.cli import main

    sys.exit(main(sys.argv[1:]))
