"""Read and validate a rubric TOML file; every error is one line naming the file and the key."""

from __future__ import annotations

import hashlib
import itertools
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.grading.hidden_names import hidden_test_names
from grader.grading.quiz import QuizKeyError, load_quiz
from grader.grading.rubric import (
    CHECK_KINDS,
    COMMAND_RESULTS,
    DEFAULT_GROUPS,
    DEPENDENCY_POLICIES,
    LANGUAGES,
    NOQA_MODES,
    PRAGMA_MODES,
    TEST_DATABASES,
    Band,
    Check,
    CommandSpec,
    DependencyRules,
    HiddenTest,
    LintRules,
    QuizSpec,
    Rubric,
    RubricSet,
    RunnerEnvironment,
    Section,
)
from grader.settings import GradingSettings, Settings

# ruff settings a rubric may pass through; the grader's own (rules, line length, sources, what is linted:
# `lint.exclude` is the one way to leave files out) are not among them.
RUFF_SETTING = re.compile(r"(target-version|lint\.(extend-per-file-ignores|per-file-ignores|"
                          r"dummy-variable-rgx|typing-modules|allowed-confusables|"
                          r"(flake8-[a-z0-9-]+|isort|pyupgrade|pydocstyle|pycodestyle|pep8-naming|mccabe|"
                          r"pylint|pyflakes)\.[a-z0-9-]+))")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Set by the harness for every process of the student's (paths, users, the interpreter's own switches).
RESERVED_ENV = frozenset({"PATH", "HOME", "USER", "TMPDIR", "LANG", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
                          "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "LD_PRELOAD", "LD_LIBRARY_PATH"})
PROBE_NAME = "probe.py"  # the name the hidden checks' probe has in the container's public folder
DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?")
NPM_PACKAGE = re.compile(r"(@[a-z0-9._-]+/)?[a-z0-9._-]+(@[A-Za-z0-9.^~*-]+)?")


class RubricError(ValueError):
    """The rubric cannot be used; the message is one line: `file: key problem`."""


class _Reader:
    """Typed access to the TOML tables that raises `RubricError` naming the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> RubricError:
        return RubricError(f"{self.path}: {key} {problem}")

    def table(self, data: Mapping[str, Any], key: str, name: str, required: bool = True) -> dict[str, Any]:
        value = data.get(name)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def text(self, data: Mapping[str, Any], key: str, name: str, default: str | None = None) -> str:
        value = data.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def number(self, data: Mapping[str, Any], key: str, name: str, default: float | None = None,
               positive: bool = False) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or (positive and value <= 0):
            raise self.fail(key, "must be a positive number" if positive else "must be a number")
        return float(value)

    def strings(self, data: Mapping[str, Any], key: str, name: str,
                default: list[str] | None = None) -> tuple[str, ...]:
        value = data.get(name, default)
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def relative_path(self, data: Mapping[str, Any], key: str, name: str, must_exist: bool) -> Path:
        path = (self.path.parent / self.text(data, key, name)).resolve()
        if must_exist and not path.exists():
            raise self.fail(key, f"points to {path}, which does not exist")
        return path


def load_rubric(path: Path | str, remediation_base_url: str = "") -> Rubric:
    """The rubric at `path`; `remediation_base_url` (a setting) replaces the file's own when given."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RubricError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path}: is not valid TOML: {exc}") from None
    return _build(_Reader(path), data, hashlib.sha256(raw).hexdigest(), remediation_base_url)


def _build(reader: _Reader, data: dict[str, Any], sha256: str, remediation_base_url: str) -> Rubric:
    head = reader.table(data, "rubric", "rubric")
    language = reader.text(head, "rubric.language", "language", "en")
    if language not in LANGUAGES:
        raise reader.fail("rubric.language", f"must be one of {', '.join(LANGUAGES)}")
    sections = _sections(reader, reader.table(data, "sections", "sections", required=False))
    runner = reader.table(data, "runner", "runner", required=False)
    base_url = remediation_base_url or reader.text(head, "rubric.remediation_base_url", "remediation_base_url")
    checks = _checks(reader, data.get("checks"), sections)
    return Rubric(
        id=reader.text(head, "rubric.id", "id"), title=reader.text(head, "rubric.title", "title"),
        version=str(head.get("version", "1")), language=language, remediation_base_url=base_url,
        grades=_grades(reader, reader.table(data, "grades", "grades"), checks), sections=sections,
        lint=_lint(reader, reader.table(data, "lint", "lint", required=False)),
        checks=checks, path=reader.path.resolve(), sha256=sha256,
        packages=reader.strings(runner, "runner.packages", "packages", []),
        image=reader.text(runner, "runner.image", "image") if "image" in runner else "",
        system_packages=_package_names(reader, runner, "system_packages", DEBIAN_PACKAGE),
        node_packages=_package_names(reader, runner, "node_packages", NPM_PACKAGE),
        python_paths=_python_paths(reader, runner),
        dependencies=_dependencies(reader, reader.table(data, "dependencies", "dependencies", required=False)),
        environment=_environment(reader, runner),
        hidden_tests_dir=_hidden_tests(reader, data), probe_path=_probe(reader, data),
        hidden_package=_hidden_package(reader, data), quiz=_quiz(reader, data),
        public_files=_public_files(reader, runner),
        coverage_pragmas=_pragmas(reader, reader.table(data, "coverage", "coverage", required=False)),
        hidden_tests=_hidden_test_specs(reader, data, sections),
    )


def _sections(reader: _Reader, table: dict[str, Any]) -> dict[str, Section]:
    sections = {}
    for section_id, entry in table.items():
        key = f"sections.{section_id}"
        entry = reader.table(table, key, section_id)
        sections[section_id] = Section(id=section_id, title=reader.text(entry, f"{key}.title", "title"),
                                       anchor=reader.text(entry, f"{key}.anchor", "anchor"))
    return sections


def _grades(reader: _Reader, table: dict[str, Any], checks: tuple[Check, ...]) -> tuple[Band, ...]:
    bands = [_band(reader, table, name, checks) for name in table]
    if len(bands) < 2:
        raise reader.fail("grades", "must list at least two bands with their lower bounds, the lowest at 0")
    bounds = [band.min for band in bands]
    ordered = bounds == sorted(bounds, reverse=True) and len(set(bounds)) == len(bounds)
    if not ordered or bounds[-1] != 0 or bounds[0] > 100:
        raise reader.fail("grades", "must be distinct lower bounds from 100 down to 0, highest first, "
                                    "the lowest at 0")
    for better, worse in itertools.pairwise(bands):
        # A better band asks at least what a worse one does, so "the best band whose requirements hold"
        # and "the lower of the score's band and the requirements' band" are the same grade.
        missing = [check for check in worse.requires if check not in better.requires]
        if missing:
            raise reader.fail(f"grades.{better.name}.requires", f"must include what {worse.name} requires: "
                                                                 f"{', '.join(missing)}")
    return tuple(bands)


def _band(reader: _Reader, table: dict[str, Any], name: str, checks: tuple[Check, ...]) -> Band:
    """`S = 90`, or `[grades.S] min = 90, requires = ["tests", "lint"]`."""
    key = f"grades.{name}"
    if not isinstance(table[name], dict):
        return Band(name, reader.number(table, key, name))
    entry = table[name]
    unknown = [key for key in entry if key not in ("min", "requires")]
    if unknown:
        raise reader.fail(f"{key}.{unknown[0]}", "is not a key of a band (min, requires)")
    requires = reader.strings(entry, f"{key}.requires", "requires", [])
    ids = [check.id for check in checks]
    wrong = [check for check in requires if check not in ids]
    if wrong:
        raise reader.fail(f"{key}.requires", f"names unknown checks: {', '.join(wrong)} (checks: {', '.join(ids)})")
    return Band(name, reader.number(entry, f"{key}.min", "min"), requires)


def _lint(reader: _Reader, table: dict[str, Any]) -> LintRules:
    noqa = table.get("noqa", "ignored")
    if noqa not in NOQA_MODES:
        raise reader.fail("lint.noqa", f"must be one of {', '.join(NOQA_MODES)}")
    line_length = int(reader.number(table, "lint.line_length", "line_length", 100, positive=True))
    shown = int(reader.number(table, "lint.comment_max_findings", "comment_max_findings", 20, positive=True))
    return LintRules(select=reader.strings(table, "lint.select", "select", ["E", "F"]),
                     ignore=reader.strings(table, "lint.ignore", "ignore", []), line_length=line_length, noqa=noqa,
                     settings=_ruff_settings(reader, reader.table(table, "lint.settings", "settings", required=False)),
                     exclude=reader.strings(table, "lint.exclude", "exclude", []), comment_max_findings=shown)


def _ruff_settings(reader: _Reader, table: dict[str, Any]) -> tuple[tuple[str, object], ...]:
    for key, value in table.items():
        if not RUFF_SETTING.fullmatch(key):
            raise reader.fail(f"lint.settings.{key}", "is not a ruff setting a rubric may set (target-version, "
                                                      "lint.per-file-ignores, lint.<plugin>.<option>)")
        if not _plain_toml(value):
            raise reader.fail(f"lint.settings.{key}", "must be a string, number, boolean, list or table of those")
    return tuple(sorted(table.items()))


def _plain_toml(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list) and depth < 2:
        return all(_plain_toml(item, depth + 1) for item in value)
    if isinstance(value, dict) and depth < 2:
        return all(isinstance(key, str) and _plain_toml(item, depth + 1) for key, item in value.items())
    return False


def _dependencies(reader: _Reader, table: dict[str, Any]) -> DependencyRules:
    policy = table.get("policy", "image")
    if policy not in DEPENDENCY_POLICIES:
        raise reader.fail("dependencies.policy", f"must be one of {', '.join(DEPENDENCY_POLICIES)}")
    key = "dependencies."
    return DependencyRules(
        policy=policy, extras=reader.strings(table, f"{key}extras", "extras", []),
        deny=reader.strings(table, f"{key}deny", "deny", []),
        ignore=reader.strings(table, f"{key}ignore", "ignore", []),
        groups=reader.strings(table, f"{key}groups", "groups", list(DEFAULT_GROUPS)),
        max_packages=int(reader.number(table, f"{key}max_packages", "max_packages", 60, positive=True)),
        max_mb=int(reader.number(table, f"{key}max_mb", "max_mb", 300, positive=True)),
        max_seconds=int(reader.number(table, f"{key}max_seconds", "max_seconds", 180, positive=True)))


def _environment(reader: _Reader, runner: dict[str, Any]) -> RunnerEnvironment:
    database = runner.get("tests_database", "sqlite")
    if database not in TEST_DATABASES:
        raise reader.fail("runner.tests_database", f"must be one of {', '.join(TEST_DATABASES)}")
    env = reader.table(runner, "runner.env", "env", required=False)
    for name, value in env.items():
        if not ENV_NAME.fullmatch(name) or name.startswith("GRADER_") or name in RESERVED_ENV:
            raise reader.fail(f"runner.env.{name}", "is not a variable a rubric may set (GRADER_*, PATH, HOME, "
                                                    "PYTHONPATH and the like are the grader's)")
        if not isinstance(value, str):
            raise reader.fail(f"runner.env.{name}", "must be a string")
    return RunnerEnvironment(env=tuple(sorted(env.items())), tests_database=database)


def _pragmas(reader: _Reader, table: dict[str, Any]) -> str:
    pragmas = table.get("pragmas", "ignored")
    if pragmas not in PRAGMA_MODES:
        raise reader.fail("coverage.pragmas", f"must be one of {', '.join(PRAGMA_MODES)}")
    return str(pragmas)


def _package_names(reader: _Reader, runner: dict[str, Any], name: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    """A package list of the runner variant; each name goes into the image build's shell, so only names."""
    names = reader.strings(runner, f"runner.{name}", name, [])
    bad = next((item for item in names if not pattern.fullmatch(item)), None)
    if bad is not None:
        raise reader.fail(f"runner.{name}", f"has {bad!r}, which is not a package name (with an optional version)")
    return names


def _public_files(reader: _Reader, runner: dict[str, Any]) -> tuple[Path, ...]:
    names = reader.strings(runner, "runner.public_files", "public_files", [])
    paths = tuple((reader.path.parent / name).resolve() for name in names)
    missing = next((path for path in paths if not path.is_file()), None)
    if missing is not None:
        raise reader.fail("runner.public_files", f"points to {missing}, which is not a file")
    if len({path.name for path in paths}) != len(paths) or PROBE_NAME in {path.name for path in paths}:
        raise reader.fail("runner.public_files", f"must have distinct file names, none of them {PROBE_NAME}")
    return paths


def _python_paths(reader: _Reader, runner: dict[str, Any]) -> tuple[str, ...]:
    paths = reader.strings(runner, "runner.python_paths", "python_paths", [])
    for path in paths:
        if path.startswith("/") or ".." in Path(path).parts:
            raise reader.fail("runner.python_paths", "must be folders inside the student's repository")
    return paths


def _hidden_tests(reader: _Reader, data: dict[str, Any]) -> Path | None:
    table = reader.table(data, "hidden_tests", "hidden_tests", required=False)
    return reader.relative_path(table, "hidden_tests.path", "path", must_exist=False) if table else None


def _hidden_package(reader: _Reader, data: dict[str, Any]) -> str:
    table = reader.table(data, "hidden_tests", "hidden_tests", required=False)
    if "package" not in table:
        return ""
    package = reader.text(table, "hidden_tests.package", "package")
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", package):
        raise reader.fail("hidden_tests.package", "must be a dotted module name, e.g. \"app\"")
    return package
def _hidden_test_specs(reader: _Reader, data: dict[str, Any],
                       sections: Mapping[str, Section]) -> dict[str, HiddenTest]:
    """`[hidden_tests.tests.NAME]`: per hidden test (by function name) its sections, hint and weight."""
    table = reader.table(data, "hidden_tests", "hidden_tests", required=False)
    entries = reader.table(table, "hidden_tests.tests", "tests", required=False)
    specs = {}
    for name in entries:
        key = f"hidden_tests.tests.{name}"
        entry = reader.table(entries, key, name)
        unknown = [item for item in entry if item not in ("sections", "hint", "weight")]
        if unknown:
            raise reader.fail(f"{key}.{unknown[0]}", "is not a key of a hidden test (sections, hint, weight)")
        linked = reader.strings(entry, f"{key}.sections", "sections", [])
        missing = [section for section in linked if section not in sections]
        if missing:
            raise reader.fail(f"{key}.sections", f"names unknown sections: {', '.join(missing)}")
        hint = reader.text(entry, f"{key}.hint", "hint") if "hint" in entry else ""
        if "\n" in hint:
            raise reader.fail(f"{key}.hint", "must be one line")
        specs[name] = HiddenTest(name, linked, hint,
                                 reader.number(entry, f"{key}.weight", "weight", 1.0, positive=True))
    return specs


def _probe(reader: _Reader, data: dict[str, Any]) -> Path | None:
    table = reader.table(data, "hidden_tests", "hidden_tests", required=False)
    return reader.relative_path(table, "hidden_tests.probe", "probe", must_exist=False) if "probe" in table else None


def _quiz(reader: _Reader, data: dict[str, Any]) -> QuizSpec | None:
    table = reader.table(data, "quiz", "quiz", required=False)
    if not table:
        return None
    percent = reader.number(table, "quiz.pass_percent", "pass_percent", 80, positive=True)
    if percent > 100:
        raise reader.fail("quiz.pass_percent", "must be at most 100")
    return QuizSpec(key_path=reader.relative_path(table, "quiz.key", "key", must_exist=False),
                    answers_file=reader.text(table, "quiz.answers_file", "answers_file"), pass_percent=percent)


def _checks(reader: _Reader, entries: Any, sections: Mapping[str, Section]) -> tuple[Check, ...]:
    if not isinstance(entries, list) or not entries:
        raise reader.fail("checks", "must be a non-empty array of tables ([[checks]])")
    checks = [_check(reader, f"checks[{index}]", entry, sections) for index, entry in enumerate(entries)]
    ids = [check.id for check in checks]
    _check_runs(reader, checks)
    duplicate = next((check_id for check_id in ids if ids.count(check_id) > 1), None)
    if duplicate:
        raise reader.fail("checks", f"has the id {duplicate!r} more than once")
    return tuple(checks)


def _check(reader: _Reader, key: str, entry: Any, sections: Mapping[str, Section]) -> Check:
    if not isinstance(entry, dict):
        raise reader.fail(key, "must be a table")
    kind = reader.text(entry, f"{key}.kind", "kind")
    if kind not in CHECK_KINDS:
        raise reader.fail(f"{key}.kind", f"must be one of {', '.join(CHECK_KINDS)}")
    linked = reader.strings(entry, f"{key}.sections", "sections", [])
    unknown = [section for section in linked if section not in sections]
    if unknown:
        raise reader.fail(f"{key}.sections", f"names unknown sections: {', '.join(unknown)}")
    check = Check(id=reader.text(entry, f"{key}.id", "id"), kind=kind,
                  title=reader.text(entry, f"{key}.title", "title", kind),
                  points=reader.number(entry, f"{key}.points", "points", positive=True), sections=linked,
                  max_findings=int(reader.number(entry, f"{key}.max_findings", "max_findings", 0)),
                  zero_at=int(reader.number(entry, f"{key}.zero_at", "zero_at", 20)),
                  min_percent=reader.number(entry, f"{key}.min_percent", "min_percent", 80),
                  zero_at_percent=reader.number(entry, f"{key}.zero_at_percent", "zero_at_percent", 40),
                  command=_command(reader, key, entry) if kind == "command" else None)
    if check.zero_at <= check.max_findings or check.zero_at_percent >= check.min_percent:
        raise reader.fail(key, "thresholds must leave a range: zero_at > max_findings, zero_at_percent < min_percent")
    return check


def _command(reader: _Reader, key: str, entry: dict[str, Any]) -> CommandSpec:
    """A command check: `command` (argv) or `run` (another command check's run), its results and timeout."""
    results = entry.get("results", "exit_code")
    if results not in COMMAND_RESULTS:
        raise reader.fail(f"{key}.results", f"must be one of {', '.join(COMMAND_RESULTS)}")
    run_of = reader.text(entry, f"{key}.run", "run") if "run" in entry else ""
    argv = reader.strings(entry, f"{key}.command", "command", [])
    if bool(argv) == bool(run_of):
        raise reader.fail(key, "must give either `command` (a list of strings) or `run` (another check's id)")
    results_file = reader.text(entry, f"{key}.results_file", "results_file") if results != "exit_code" else ""
    if results_file.startswith("/") or ".." in Path(results_file).parts:
        raise reader.fail(f"{key}.results_file", "must be a path inside the student's repository")
    if run_of and results == "exit_code":
        raise reader.fail(f"{key}.results", "of a check that reads another check's run must name a file")
    timeout = reader.number(entry, f"{key}.timeout", "timeout", 60, positive=True)
    return CommandSpec(argv=argv, timeout_seconds=timeout, results=str(results), results_file=results_file,
                       run_of=run_of)


def _check_runs(reader: _Reader, checks: list[Check]) -> None:
    """Every `run` names a command check that runs a command itself."""
    runs = {check.id for check in checks if check.command is not None and not check.command.run_of}
    for check in checks:
        if check.command is not None and check.command.run_of and check.command.run_of not in runs:
            raise reader.fail(f"check {check.id!r}", f"has run = {check.command.run_of!r}, which is not "
                                                     "a command check with a command of its own")


def load_checked_rubric(settings: GradingSettings, path: Path | str | None = None) -> Rubric:
    """The rubric a service or command runs with (`path`, or the configured one), with everything it
    points to checked now: a broken quiz key or a missing hidden-tests folder stops start-up in one line
    instead of failing every job later."""
    rubric = load_rubric(path or settings.rubric_path, settings.remediation_base_url)
    if rubric.hidden_tests_dir is not None and not rubric.hidden_tests_dir.is_dir():
        raise RubricError(f"{rubric.path}: hidden_tests.path points to {rubric.hidden_tests_dir}, "
                          "which is not a folder")
    if rubric.hidden_tests_dir is not None:
        _check_hidden_test_names(rubric, rubric.hidden_tests_dir)
    if rubric.probe_path is not None and not rubric.probe_path.is_file():
        raise RubricError(f"{rubric.path}: hidden_tests.probe points to {rubric.probe_path}, which is not a file")
    if rubric.quiz is not None:
        try:
            load_quiz(rubric.quiz.key_path)
        except QuizKeyError as exc:
            raise RubricError(f"{rubric.path}: quiz.key is broken: {exc}") from None
    return rubric


def _check_hidden_test_names(rubric: Rubric, folder: Path) -> None:
    """Every declared hidden test exists; once one is declared, every one is (a test without its
    sections and hint would send the student to every section of the check)."""
    try:
        found = hidden_test_names(folder)
    except (OSError, SyntaxError, ValueError) as exc:
        raise RubricError(f"{rubric.path}: hidden_tests.path holds a test file that cannot be parsed: {exc}") from None
    unknown = sorted(set(rubric.hidden_tests) - found)
    if unknown:
        raise RubricError(f"{rubric.path}: hidden_tests.tests.{unknown[0]} names no test in {folder}")
    undeclared = sorted(found - set(rubric.hidden_tests))
    if rubric.hidden_tests and undeclared:
        raise RubricError(f"{rubric.path}: hidden_tests.tests has no entry for {', '.join(undeclared)} "
                          "(give every hidden test its sections and hint)")


def load_rubric_set(settings: Settings) -> RubricSet:
    """The configured rubric and, with a course file, every assignment's, each checked now (a rubric
    shared by assignments is loaded once)."""
    default = load_checked_rubric(settings.grading)
    if settings.course is None:
        return RubricSet(default)
    loaded: dict[Path, Rubric] = {default.path: default}
    by_assignment: dict[str, Rubric] = {}
    for assignment in settings.course.assignments:
        if assignment.rubric_path not in loaded:
            try:
                loaded[assignment.rubric_path] = load_checked_rubric(settings.grading, assignment.rubric_path)
            except RubricError as exc:
                raise RubricError(f"assignment {assignment.id}: {exc}") from None
        by_assignment[assignment.id] = loaded[assignment.rubric_path]
    return RubricSet(default, by_assignment)
