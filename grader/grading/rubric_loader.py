"""Read and validate a rubric TOML file; every error is one line naming the file and the key."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.grading.quiz import QuizKeyError, load_quiz
from grader.grading.rubric import (
    CHECK_KINDS,
    COMMAND_RESULTS,
    LANGUAGES,
    NOQA_MODES,
    PRAGMA_MODES,
    Check,
    CommandSpec,
    LintRules,
    QuizSpec,
    Rubric,
    RubricSet,
    Section,
)
from grader.settings import GradingSettings, Settings

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
    return Rubric(
        id=reader.text(head, "rubric.id", "id"), title=reader.text(head, "rubric.title", "title"),
        version=str(head.get("version", "1")), language=language, remediation_base_url=base_url,
        grades=_grades(reader, reader.table(data, "grades", "grades")), sections=sections,
        lint=_lint(reader, reader.table(data, "lint", "lint", required=False)),
        checks=_checks(reader, data.get("checks"), sections), path=reader.path.resolve(), sha256=sha256,
        packages=reader.strings(runner, "runner.packages", "packages", []),
        image=reader.text(runner, "runner.image", "image") if "image" in runner else "",
        system_packages=_package_names(reader, runner, "system_packages", DEBIAN_PACKAGE),
        node_packages=_package_names(reader, runner, "node_packages", NPM_PACKAGE),
        python_paths=_python_paths(reader, runner),
        public_files=_public_files(reader, runner),
        hidden_tests_dir=_hidden_tests(reader, data), probe_path=_probe(reader, data), quiz=_quiz(reader, data),
        coverage_pragmas=_pragmas(reader, reader.table(data, "coverage", "coverage", required=False)),
    )


def _sections(reader: _Reader, table: dict[str, Any]) -> dict[str, Section]:
    sections = {}
    for section_id, entry in table.items():
        key = f"sections.{section_id}"
        entry = reader.table(table, key, section_id)
        sections[section_id] = Section(id=section_id, title=reader.text(entry, f"{key}.title", "title"),
                                       anchor=reader.text(entry, f"{key}.anchor", "anchor"))
    return sections


def _grades(reader: _Reader, table: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    bands = [(name, reader.number(table, f"grades.{name}", name)) for name in table]
    if len(bands) < 2:
        raise reader.fail("grades", "must list at least two bands with their lower bounds, the lowest at 0")
    bounds = [bound for _, bound in bands]
    ordered = bounds == sorted(bounds, reverse=True) and len(set(bounds)) == len(bounds)
    if not ordered or bounds[-1] != 0 or bounds[0] > 100:
        raise reader.fail("grades", "must be distinct lower bounds from 100 down to 0, highest first, "
                                    "the lowest at 0")
    return tuple(bands)


def _lint(reader: _Reader, table: dict[str, Any]) -> LintRules:
    noqa = table.get("noqa", "ignored")
    if noqa not in NOQA_MODES:
        raise reader.fail("lint.noqa", f"must be one of {', '.join(NOQA_MODES)}")
    line_length = int(reader.number(table, "lint.line_length", "line_length", 100, positive=True))
    return LintRules(select=reader.strings(table, "lint.select", "select", ["E", "F"]),
                     ignore=reader.strings(table, "lint.ignore", "ignore", []), line_length=line_length, noqa=noqa,
                     exclude=reader.strings(table, "lint.exclude", "exclude", []))


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
    if rubric.probe_path is not None and not rubric.probe_path.is_file():
        raise RubricError(f"{rubric.path}: hidden_tests.probe points to {rubric.probe_path}, which is not a file")
    if rubric.quiz is not None:
        try:
            load_quiz(rubric.quiz.key_path)
        except QuizKeyError as exc:
            raise RubricError(f"{rubric.path}: quiz.key is broken: {exc}") from None
    return rubric


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
