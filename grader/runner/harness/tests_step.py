"""The student's own tests under coverage, as the student.

Results come only through the grader's plugin and its pipe, sent when pytest reaches its own session
end: a `.coverage` or JUnit file the student's code writes is read by nobody, and a run that ends
before the session's end (os._exit, a crash, a kill) has no results at all ("did not finish").
Coverage uses a pinned configuration: the student's `.coveragerc` or `[tool.coverage]` is not read,
and exclusion pragmas (`# pragma: no cover`, `# pragma: no branch`) count only if the rubric says so.

The tests get the rubric's `[runner.env]` and a PYTHONPATH that makes the student's own imports work
(`layout.py`); pytest-cov's options are taken out of the student's addopts (the grader measures
coverage itself, and `--cov` without pytest-cov would stop pytest at once). When pytest stops before
running any test, a longer tail of its output goes to the host, which shows the student why.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

from . import postgres
from .context import TESTS_DATABASE, Context
from .proc import Outcome
from .protocol import OUTCOME_ERROR, OUTCOME_EXITED, OUTPUT_TAIL_CHARS, PUBLIC_DIR, SUBMISSION_DIR
from .step_results import channel_problem, channel_text, outcome_fields

COVERAGE_OMIT = ("*/tests/*,*/test_*.py,*/*_test.py,*/conftest.py,*/migrations/*,*/alembic/*,*/docs/*,*/.venv/*,"
                 "*/venv/*")
RESULTS_PLUGIN = "grader_results"
RCFILE = f"{PUBLIC_DIR}/coveragerc"
PRAGMAS_OFF = "[report]\nexclude_lines =\npartial_branches =\n"
STARTUP_TAIL_CHARS = 16_000  # an import error explains itself above the last lines
PYTEST_STOPPED = (2, 3, 4)  # interrupted (collection errors), internal error, usage error


def write_rcfile(pragmas: str) -> None:
    """The pinned coverage configuration, in a folder only root can write."""
    with open(RCFILE, "w") as handle:
        handle.write("[run]\nbranch = True\n" + (PRAGMAS_OFF if pragmas != "honoured" else ""))
    os.chmod(RCFILE, 0o644)


def coverage_argv(ctx: Context, addopts: list[str] | None = None) -> list[str]:
    # The rubric's folders where the submission has them; otherwise its code is wherever it is.
    sources = ",".join([path for path in ctx.python_paths() if os.path.isdir(path)] or [SUBMISSION_DIR])
    argv = ["coverage", "run", f"--rcfile={RCFILE}", f"--data-file={ctx.student.tmp}/.coverage", "--branch",
            f"--source={sources}", f"--omit={COVERAGE_OMIT}", "-m", "pytest", "-p", "no:cacheprovider",
            "-p", RESULTS_PLUGIN, "-q"]
    return [*argv, "-o", f"addopts={shlex.join(addopts)}"] if addopts is not None else argv


def _database(ctx: Context) -> tuple[str, str]:
    """The database of the student's tests ("" for SQLite, else the run's PostgreSQL, emptied), and
    why the PostgreSQL could not be used ("" when it could)."""
    if ctx.config.get("tests_database") != "postgres":
        return "", ""

    def reset() -> bool:
        return postgres.psql(ctx.student, TESTS_DATABASE, "DROP OWNED BY CURRENT_USER").exit_code == 0

    return TESTS_DATABASE, ctx.postgres_ready(reset)


def run(ctx: Context) -> dict[str, Any]:
    write_rcfile(str(ctx.config.get("coverage_pragmas", "ignored")))
    database, error = _database(ctx)
    if error:
        return {"outcome": OUTCOME_ERROR, "summary": error}
    paths, addopts = ctx.scan_layout("tests")
    env = {**ctx.student_env(database), "PYTHONPATH": os.pathsep.join([PUBLIC_DIR, *paths])}  # the plugin's first
    outcome = ctx.run(ctx.student, coverage_argv(ctx, addopts), SUBMISSION_DIR, env, channel=True,
                      tail_chars=STARTUP_TAIL_CHARS)
    results = channel_text(outcome)
    fields = {**outcome_fields(outcome), "output_tail": outcome.output[-OUTPUT_TAIL_CHARS:],
              "artifacts": {"results.json": results}, "startup_output": _startup_output(outcome, results)}
    problem = channel_problem(outcome, "the test results were")
    return {**fields, "summary": problem} if problem else fields


def _startup_output(outcome: Outcome, results: str | None) -> str:
    """The longer tail when pytest stopped before running a test (the host decides from the results)."""
    stopped = outcome.kind == OUTCOME_EXITED and (outcome.exit_code in PYTEST_STOPPED or results is None)
    return outcome.output if stopped else ""
