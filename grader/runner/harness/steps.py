"""The checks, one module each; each returns the fields of its `result` event.

The harness reports what ran and the raw machine-readable results (ruff JSON, the test results and
coverage the grader's pytest plugin sent, the migration test's findings); the host parses them and
decides what they are worth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import command_step, hidden_step, lint_step, migrations_step, tests_step
from .context import Context
from .protocol import COMMAND_PREFIX

STEPS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "lint": lint_step.run, "tests": tests_step.run, "hidden_tests": hidden_step.run, "migrations": migrations_step.run,
}


def step_runner(ctx: Context, step_id: str) -> Callable[[], dict[str, Any]]:
    """The step `step_id` of this run, ready to call; KeyError for a step the harness does not know."""
    if step_id.startswith(COMMAND_PREFIX):
        spec = ctx.config["commands"][step_id]
        return lambda: command_step.run(ctx, spec)
    step = STEPS[step_id]
    return lambda: step(ctx)
