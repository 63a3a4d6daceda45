"""Running work in several threads that switch as often as CPython allows, with garbage whose finalizer
runs Python code, so a thread switch can happen in the middle of a C-level operation (a parse)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable


class _Cycle:
    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        sum(range(50))


def errors_in_threads(work: Callable[[int], object], threads: int = 4, rounds: int = 20) -> list[BaseException]:
    """Every exception `work(thread_index)` raised, run `rounds` times in each of `threads` threads."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        for _ in range(rounds):
            for _ in range(20):
                _Cycle()
            try:
                work(index)
            except BaseException as error:  # collected for the caller to assert on
                errors.append(error)

    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50, 1, 1)
    try:
        started = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
        for thread in started:
            thread.start()
        for thread in started:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    return errors
