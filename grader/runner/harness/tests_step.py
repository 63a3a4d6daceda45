"""The student's own tests under coverage, as the student.

Results come only through the grader's plugin and its pipe, sent when pytest reaches its own session
end: a `.coverage` or JUnit file the student's code writes is read by nobody, and a run that ends
before the session's end (os._exit, a crash, a kill) has no results at all ("did not finish").
Coverage uses a pinned configuration: the student's `.coveragerc` or `[tool.coverage]` is not read,
and exclusion pragmas (`# pragma: no cover`, `# pragma: no branch`) count only if the rubric says so.
"""

from __future__ import annotations

import os
from typing import Any

from .context import Context
from .protocol import PUBLIC_DIR, SUBMISSION_DIR
from .step_results import channel_problem, channel_text, outcome_fields

COVERAGE_OMIT = "*/tests/*,*/test_*.py,*/*_test.py,*/conftest.py,*/migrations/*,*/alembic/*"
RESULTS_PLUGIN = "grader_results"
RCFILE = f"{PUBLIC_DIR}/coveragerc"
PRAGMAS_OFF = "[report]\nexclude_lines =\npartial_branches =\n"


def write_rcfile(pragmas: str) -> None:
    """The pinned coverage configuration, in a folder only root can write."""
    with open(RCFILE, "w") as handle:
        handle.write("[run]\nbranch = True\n" + (PRAGMAS_OFF if pragmas != "honoured" else ""))
    os.chmod(RCFILE, 0o644)


def coverage_argv(ctx: Context) -> list[str]:
    sources = ",".join(ctx.python_paths() or [SUBMISSION_DIR])
    return ["coverage", "run", f"--rcfile={RCFILE}", f"--data-file={ctx.student.tmp}/.coverage", "--branch",
            f"--source={sources}", f"--omit={COVERAGE_OMIT}", "-m", "pytest", "-p", "no:cacheprovider",
            "-p", RESULTS_PLUGIN, "-q"]


def run(ctx: Context) -> dict[str, Any]:
    write_rcfile(str(ctx.config.get("coverage_pragmas", "ignored")))
    pythonpath = os.pathsep.join([PUBLIC_DIR, *ctx.python_paths()])  # the plugin's folder first
    outcome = ctx.run(ctx.student, coverage_argv(ctx), SUBMISSION_DIR, {"PYTHONPATH": pythonpath}, channel=True)
    fields = {**outcome_fields(outcome), "artifacts": {"results.json": channel_text(outcome)}}
    problem = channel_problem(outcome, "the test results were")
    return {**fields, "summary": problem} if problem else fields
