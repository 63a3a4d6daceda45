"""The checks, each run as an unprivileged user; each returns the fields of its `result` event.

The harness reports what ran and the raw machine-readable artifacts (ruff JSON, JUnit XML, coverage
JSON); the host parses them and decides what they are worth.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import json
import os
import shlex
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import layout, postgres
from .proc import Account, Outcome, minimal_env, run_as
from .protocol import (
    ARTIFACT_LIMIT_BYTES,
    DEPS_MOUNT,
    GRADER_MOUNT,
    HIDDEN_OUT,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_PLUGIN_MODULE,
    HIDDEN_TESTS_DIR,
    OUTCOME_ERROR,
    OUTCOME_EXITED,
    OUTCOME_NOT_RUN,
    PG_SOCKET_DIR,
    STUDENT_OUT,
    SUBMISSION_DIR,
)
from .unpack import restrict_tree

PYTEST_OWN_ERRORS = (3, 4)
COVERAGE_OMIT = ("*/tests/*,*/test_*.py,*/*_test.py,*/conftest.py,*/migrations/*,*/alembic/*,*/docs/*,*/.venv/*,"
                 "*/venv/*")
TESTS_DATABASE = "student_tests"  # the student's tests' own database: the migrations start on an empty one
ALEMBIC_SEARCH_DEPTH = 3


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

    def source_roots(self) -> list[str]:
        """The rubric's folders, each with its package root (pytest's rule): both import spellings work."""
        return layout.source_roots(SUBMISSION_DIR, self.python_paths())

    def student_env(self, database: str, account: Account | None = None) -> dict[str, str]:
        """The rubric's `[runner.env]` with its placeholders filled for `database` (a PostgreSQL
        database name, or "" for the SQLite file of the student's tests) and `account`'s role."""
        account = account or self.student
        values = {"postgres_host": PG_SOCKET_DIR, "postgres_port": "5432", "postgres_user": account.name,
                  "postgres_db": database or TESTS_DATABASE,
                  "postgres_url": postgres.database_url(account.name, database or TESTS_DATABASE)}
        values["database_url"] = values["postgres_url"] if database else \
            f"sqlite+aiosqlite:///{account.home}/grader-tests.db"
        return render_env(dict(self.config.get("env") or {}), values)

    def hidden_env(self) -> dict[str, str]:
        """The rubric's environment for the hidden run: the student's modules it imports read the same
        settings. The databases are the hidden tests' own choice (`{database_url}` entries stay out), and
        pytest's own variables too (the hidden run's options are the grader's)."""
        template = dict(self.config.get("env") or {})
        rendered = self.student_env(self.hidden.name, self.hidden)
        return {key: value for key, value in rendered.items()
                if "{database_url}" not in template[key] and not key.startswith("PYTEST_")}

    def run(self, account: Account, argv: list[str], cwd: str, env: Mapping[str, str] | None = None, *,
            timeout: float | None = None) -> Outcome:
        return run_as(account, argv, cwd=cwd, env=minimal_env(account, **(env or {})),
                      timeout=self.timeout() if timeout is None else timeout,
                      output_limit=int(self.config["output_limit"]))


def render_env(template: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """`{name}` placeholders replaced by their values; anything else is left as written."""
    rendered = {}
    for key, value in template.items():
        for name, replacement in values.items():
            value = value.replace("{" + name + "}", replacement)
        rendered[key] = value
    return rendered


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
    for setting in rules.get("settings", []):
        argv += ["--config", setting]
    if rules["ignore"]:
        argv += ["--ignore", ",".join(rules["ignore"])]
    if rules["noqa"] == "ignored":
        argv.append("--ignore-noqa")
    outcome = ctx.run(ctx.student, [*argv, "."], SUBMISSION_DIR)
    return {**outcome_fields(outcome), "artifacts": {"ruff.json": read_artifact(report, ctx.student.uid)}}


def tests(ctx: Context) -> dict[str, Any]:
    data, junit, coverage_json = (f"{STUDENT_OUT}/{name}" for name in (".coverage", "junit.xml", "coverage.json"))
    # The rubric's folders where the submission has them; otherwise its code is wherever it is.
    sources = ",".join([path for path in ctx.python_paths() if os.path.isdir(path)] or [SUBMISSION_DIR])
    pinned = ["--rcfile=/dev/null", f"--data-file={data}"]
    run_argv = ["coverage", "run", *pinned, "--branch", f"--source={sources}", f"--omit={COVERAGE_OMIT}",
                "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "-o", "junit_family=xunit2", "-q",
                *_addopts_without_coverage(SUBMISSION_DIR)]
    database = TESTS_DATABASE if ctx.config.get("tests_database") == "postgres" and ctx.postgres_error == "" else ""
    env = {**ctx.student_env(database), "PYTHONPATH": os.pathsep.join(student_test_paths(ctx))}
    outcome = ctx.run(ctx.student, run_argv, SUBMISSION_DIR, env)
    if outcome.kind == OUTCOME_EXITED:
        report_argv = ["coverage", "json", *pinned, "-q", "--ignore-errors", "-o", coverage_json]
        ctx.run(ctx.student, report_argv, SUBMISSION_DIR,
                timeout=min(60.0, max(ctx.timeout(), 1.0)))
    artifacts = {"junit.xml": read_artifact(junit, ctx.student.uid),
                 "coverage.json": read_artifact(coverage_json, ctx.student.uid)}
    # pytest stopped before any test (an import error, a bad option): the error is above the last lines
    stopped = outcome.kind == OUTCOME_EXITED and (outcome.exit_code in (2, 3, 4) or artifacts["junit.xml"] is None)
    return {**outcome_fields(outcome), "artifacts": artifacts, "startup_output": outcome.long_output if stopped else ""}


def _addopts_without_coverage(submission: str) -> list[str]:
    """`-o addopts=...` without pytest-cov's options when the student's addopts has any: the grader
    measures coverage itself, and `--cov` without pytest-cov installed would stop pytest at once."""
    tokens = layout.student_addopts(submission)
    if tokens is None:
        return []
    kept = layout.without_coverage_options(tokens)
    return [] if kept == tokens else ["-o", f"addopts={shlex.join(kept)}"]


def student_test_paths(ctx: Context) -> list[str]:
    """PYTHONPATH of the student's tests: the rubric's folders with their package roots, the student's
    own pytest `pythonpath`, and the folders their conftest and test files import from."""
    known = [*ctx.source_roots(), *layout.ini_pythonpath(SUBMISSION_DIR)]
    files = layout.python_files(SUBMISSION_DIR)
    return _unique([*known, *layout.roots_for_imports(SUBMISSION_DIR, files, [SUBMISSION_DIR, *known],
                                                      installed_names())])


def installed_names() -> set[str]:
    """Top-level names importable from the image and the mounted dependencies (never imported)."""
    names: set[str] = set()
    for folder in sys.path:
        if folder.endswith("site-packages") or folder == DEPS_MOUNT:
            for entry in _listdir(folder):
                names.add(entry.split(".", 1)[0])
    return names


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


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
    env = {**ctx.hidden_env(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "GRADER_SUBMISSION": SUBMISSION_DIR}
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
    `pytest.py` can then never shadow an installed package the hidden tests rely on. The lesson's
    package (the rubric's `hidden_tests.package`) is imported under the name the student's code gives
    it (pytest's rule), so `app.database` and the student's `backend.app.database` are one module."""
    name = "grader_student_path"
    paths = ctx.source_roots() or [SUBMISSION_DIR]
    package = str(ctx.config.get("hidden_package") or "")
    found = layout.package_location(SUBMISSION_DIR, ctx.python_paths(), package) if package else None
    aliases = layout.aliases(package, found.module) if found else {}
    if found:
        paths = _unique([found.root, *paths])
    os.makedirs(HIDDEN_PLUGIN_DIR, mode=0o750, exist_ok=True)
    with open(f"{HIDDEN_PLUGIN_DIR}/{name}.py", "w") as handle:
        handle.write(layout.ALIAS_PLUGIN.format(paths=json.dumps(paths), aliases=json.dumps(aliases)))
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
    """alembic.ini at the root, in the rubric's folders, else the shallowest one (a nested project)."""
    level = [SUBMISSION_DIR, *ctx.python_paths()]
    for _ in range(ALEMBIC_SEARCH_DEPTH + 1):
        for folder in level:
            candidate = os.path.join(folder, "alembic.ini")
            if os.path.isfile(candidate) and not os.path.islink(candidate):
                return candidate
        level = [os.path.join(folder, name) for folder in level for name in layout.subfolders(folder)]
    return None


def alembic_env_files(ini: str) -> list[str]:
    """The env.py of the ini's script location (`%(here)s` and `package:path` understood), or any
    env.py beside a `versions` folder under the ini's folder."""
    here = os.path.dirname(ini)
    parser = configparser.ConfigParser(interpolation=None)
    with contextlib.suppress(configparser.Error, OSError):
        parser.read(ini, encoding="utf-8")
    location = parser.get("alembic", "script_location", fallback="").replace("%(here)s", here).strip()
    if ":" in location and not location.startswith("/"):
        package, _, resource = location.partition(":")
        location = os.path.join(*package.split("."), resource)
    candidate = os.path.normpath(os.path.join(here, location, "env.py"))
    if location and os.path.isfile(candidate) and candidate.startswith(SUBMISSION_DIR):
        return [candidate]
    return [path for path in layout.python_files(here, names=("env.py",), test_files=False)
            if os.path.isdir(os.path.join(os.path.dirname(path), "versions"))][:3]


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
    cwd = os.path.dirname(ini)
    known = [*ctx.source_roots(), cwd]
    paths = _unique([*known, *layout.roots_for_imports(SUBMISSION_DIR, alembic_env_files(ini),
                                                       [SUBMISSION_DIR, *known], installed_names())])
    env = {"DATABASE_URL": postgres.database_url(ctx.student.name), **ctx.student_env(ctx.student.name),
           "PYTHONPATH": os.pathsep.join(paths)}
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
