"""The checks, each run as an unprivileged user; each returns the fields of its `result` event.

The harness reports what ran and the raw machine-readable artifacts (ruff JSON, JUnit XML, coverage
JSON); the host parses them and decides what they are worth.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import postgres
from .proc import Account, Outcome, minimal_env, run_as
from .protocol import (
    ARTIFACT_LIMIT_BYTES,
    GRADER_MOUNT,
    HIDDEN_OUT,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_PLUGIN_MODULE,
    HIDDEN_TESTS_DIR,
    OUTCOME_ERROR,
    OUTCOME_EXITED,
    OUTCOME_NOT_RUN,
    STUDENT_OUT,
    SUBMISSION_DIR,
)
from .unpack import restrict_tree

PYTEST_OWN_ERRORS = (3, 4)
COVERAGE_OMIT = "*/tests/*,*/test_*.py,*/*_test.py,*/conftest.py,*/migrations/*,*/alembic/*"


@dataclass
class Context:
    config: dict[str, Any]
    student: Account
    hidden: Account
    deadline: float  # the whole run's wall clock
    postgres_error: str | None = None  # None: not checked yet; "": ready

    def timeout(self) -> float:
        return min(float(self.config["step_timeout"]), self.deadline - time.monotonic())

    def python_paths(self) -> list[str]:
        return [os.path.join(SUBMISSION_DIR, path) for path in self.config.get("python_paths", [])]

    def run(self, account: Account, argv: list[str], cwd: str, env: Mapping[str, str] | None = None, *,
            timeout: float | None = None) -> Outcome:
        return run_as(account, argv, cwd=cwd, env=minimal_env(account, **(env or {})),
                      timeout=self.timeout() if timeout is None else timeout,
                      output_limit=int(self.config["output_limit"]))


def outcome_fields(outcome: Outcome) -> dict[str, Any]:
    return {"outcome": outcome.kind, "exit_code": outcome.exit_code, "duration_seconds": outcome.duration_seconds,
            "output_tail": outcome.output, "output_bytes": outcome.total_bytes, "truncated": outcome.truncated}


def read_artifact(path: str, owner: int) -> str | None:
    """A result file, only if it is a regular file of the expected owner (no link, no FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != owner:
            return None
        return handle.read(ARTIFACT_LIMIT_BYTES + 1)[:ARTIFACT_LIMIT_BYTES].decode("utf-8", "replace")


def lint(ctx: Context) -> dict[str, Any]:
    rules = ctx.config["lint"]
    report = f"{STUDENT_OUT}/ruff.json"
    argv = ["ruff", "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
            "--output-file", report, "--line-length", str(rules["line_length"]),
            "--select", ",".join(rules["select"]) or "E",
            "--config", f"src = {json.dumps([SUBMISSION_DIR, *ctx.python_paths()])}"]
    if rules["ignore"]:
        argv += ["--ignore", ",".join(rules["ignore"])]
    if rules["noqa"] == "ignored":
        argv.append("--ignore-noqa")
    outcome = ctx.run(ctx.student, [*argv, "."], SUBMISSION_DIR)
    return {**outcome_fields(outcome), "artifacts": {"ruff.json": read_artifact(report, ctx.student.uid)}}


def tests(ctx: Context) -> dict[str, Any]:
    data, junit, coverage_json = (f"{STUDENT_OUT}/{name}" for name in (".coverage", "junit.xml", "coverage.json"))
    sources = ",".join(ctx.python_paths() or [SUBMISSION_DIR])
    pinned = ["--rcfile=/dev/null", f"--data-file={data}"]
    run_argv = ["coverage", "run", *pinned, "--branch", f"--source={sources}", f"--omit={COVERAGE_OMIT}",
                "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "-o", "junit_family=xunit2", "-q"]
    pythonpath = os.pathsep.join(ctx.python_paths())
    outcome = ctx.run(ctx.student, run_argv, SUBMISSION_DIR, {"PYTHONPATH": pythonpath})
    if outcome.kind == OUTCOME_EXITED:
        report_argv = ["coverage", "json", *pinned, "-q", "--ignore-errors", "-o", coverage_json]
        ctx.run(ctx.student, report_argv, SUBMISSION_DIR,
                timeout=min(60.0, max(ctx.timeout(), 1.0)))
    artifacts = {"junit.xml": read_artifact(junit, ctx.student.uid),
                 "coverage.json": read_artifact(coverage_json, ctx.student.uid)}
    return {**outcome_fields(outcome), "artifacts": artifacts}


def hidden_test_names(root: str) -> list[str]:
    """Test functions of the hidden files, found by parsing (never importing) them."""
    names: set[str] = set()
    for folder, _, files in os.walk(root):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as handle:
                    tree = ast.parse(handle.read())
                names.update(node.name for node in ast.walk(tree)
                             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                             and node.name.startswith("test"))
    return sorted(names)


def hidden_tests(ctx: Context) -> dict[str, Any]:
    if not os.path.isdir(HIDDEN_TESTS_DIR):
        return {"outcome": OUTCOME_NOT_RUN, "summary": "this rubric has no hidden tests"}
    junit = f"{HIDDEN_OUT}/junit.xml"
    argv = _hidden_pytest_argv(ctx, junit)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADER_SUBMISSION": SUBMISSION_DIR}
    if ctx.postgres_error == "":
        env["GRADER_PG_URL"] = postgres.database_url(ctx.hidden.name)
    outcome = ctx.run(ctx.hidden, argv, ctx.hidden.home, env)
    # The output could quote the hidden tests' source; only the JUnit verdicts leave the container,
    # except pytest's own usage or internal errors (exit 3, 4), which are about the grader's options.
    tail = outcome.output if outcome.exit_code in PYTEST_OWN_ERRORS else ""
    return {**outcome_fields(outcome), "output_tail": tail, "expected_tests": hidden_test_names(HIDDEN_TESTS_DIR),
            "artifacts": {"junit.xml": read_artifact(junit, ctx.hidden.uid)}}


def _student_path_plugin(ctx: Context) -> str:
    """A plugin that appends the student's folders to sys.path: a student's `sqlalchemy/` or
    `pytest.py` can then never shadow an installed package the hidden tests rely on."""
    name = "grader_student_path"
    os.makedirs(HIDDEN_PLUGIN_DIR, mode=0o750, exist_ok=True)
    with open(f"{HIDDEN_PLUGIN_DIR}/{name}.py", "w") as handle:
        handle.write(f"import sys\n\nsys.path.extend({json.dumps(ctx.python_paths() or [SUBMISSION_DIR])})\n")
    restrict_tree(HIDDEN_PLUGIN_DIR, ctx.hidden.gid)
    return name


def _hidden_pytest_argv(ctx: Context, junit: str) -> list[str]:
    """Options pinned by the grader: no student conftest, ini file, plugin, addopts or cache."""
    argv = ["python", "-I", "-B", "-m", "pytest", "-c", f"{GRADER_MOUNT}/pytest-hidden.ini",
            f"--rootdir={HIDDEN_TESTS_DIR}", "--noconftest", "-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin",
            "-o", "addopts=", "-o", f"pythonpath={HIDDEN_PLUGIN_DIR}", "-p", _student_path_plugin(ctx),
            "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function",
            "-o", "junit_family=xunit2", f"--junitxml={junit}", f"--basetemp={ctx.hidden.home}/basetemp", "-q"]
    if os.path.isfile(f"{HIDDEN_PLUGIN_DIR}/{HIDDEN_PLUGIN_MODULE}.py"):
        argv += ["-p", HIDDEN_PLUGIN_MODULE]
    return [*argv, HIDDEN_TESTS_DIR]


def find_alembic_ini(ctx: Context) -> str | None:
    for folder in [SUBMISSION_DIR, *ctx.python_paths()]:
        candidate = os.path.join(folder, "alembic.ini")
        if os.path.isfile(candidate) and not os.path.islink(candidate):
            return candidate
    return None


HEADS_SCRIPT = (
    "import json, sys\nfrom alembic.config import Config\nfrom alembic.script import ScriptDirectory\n"
    "print(json.dumps(len(ScriptDirectory.from_config(Config(sys.argv[1])).get_heads())))\n"
)


def migrations(ctx: Context) -> dict[str, Any]:
    ini = find_alembic_ini(ctx)
    if ini is None:
        return {"outcome": OUTCOME_NOT_RUN, "summary": "no Alembic configuration found"}
    if ctx.postgres_error:
        return {"outcome": OUTCOME_ERROR, "summary": ctx.postgres_error}
    started = time.monotonic()
    env = {"DATABASE_URL": postgres.database_url(ctx.student.name), "PYTHONPATH": os.pathsep.join(ctx.python_paths())}
    cwd = os.path.dirname(ini)
    alembic = ["alembic", "-c", ini]
    plan = [("upgrade", [*alembic, "upgrade", "head"]), ("downgrade", [*alembic, "downgrade", "base"]),
            ("upgrade_again", [*alembic, "upgrade", "head"]), ("drift", [*alembic, "check"])]
    results: list[dict[str, Any]] = []
    worst: Outcome | None = None
    for name, argv in plan:
        if results and not results[-1]["ok"]:
            results.append({"name": name, "ok": False, "error_lines": [f"not run: {results[-1]['name']} failed"]})
            continue
        outcome = ctx.run(ctx.student, argv, cwd, env)
        results.append(_migration_step(name, outcome, outcome.exit_code == 0))
        worst = outcome if outcome.kind != OUTCOME_EXITED else worst
    heads = ctx.run(ctx.student, ["python", "-c", HEADS_SCRIPT, ini], cwd, env)
    results.append(_migration_step("single_head", heads, _last_line(heads.output) == "1"))
    final = worst or heads
    return {**outcome_fields(final), "duration_seconds": time.monotonic() - started, "migrations": results}


def _migration_step(name: str, outcome: Outcome, ok: bool) -> dict[str, Any]:
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    if name == "single_head" and not ok and outcome.kind == OUTCOME_EXITED:
        lines = [f"expected exactly one head revision, found {_last_line(outcome.output) or 'none'}", *lines[-8:]]
    elif outcome.kind != OUTCOME_EXITED:
        lines = [f"{outcome.kind} after {outcome.duration_seconds:.1f} s", *lines[-8:]]
    return {"name": name, "ok": ok and outcome.kind == OUTCOME_EXITED, "duration_seconds": outcome.duration_seconds,
            "error_lines": [] if ok else lines[-10:]}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""
