"""Parsing Python source into an AST on the host, one parse at a time per process.

CPython 3.11 keeps the AST converter's recursion depth in interpreter-wide state (gh-106905): two threads
parsing at once corrupt it, and the parse fails with `SystemError: AST constructor recursion depth
mismatch`. The service parses from worker threads (the tamper scan) and from the event loop (rubric
loading), so every parse of the service goes through here. (The in-container harness, which imports
nothing of the service, has its own: `grader.runner.harness.protocol.parse_python`.)
"""

from __future__ import annotations

import ast
import threading

_PARSING = threading.Lock()


def parse_python(source: bytes | str) -> ast.Module:
    with _PARSING:
        return ast.parse(source)
