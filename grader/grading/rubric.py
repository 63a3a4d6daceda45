"""The rubric of one assignment as frozen data: checks with points and thresholds, grade bands,
lesson sections to link, the ruff rule set, the runner's packages, hidden tests and quiz.

The TOML schema is documented in README.md ("Rubric reference") and validated by `grader.grading.rubric_loader`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.grading.result import Remediation

CHECK_KINDS = ("lint", "tests", "coverage", "migrations", "hidden_tests", "quiz", "command")
# Checks whose ground truth must stay private (hidden tests, the quiz key): a run in a repository the
# student controls (the reusable workflow) cannot grade them; the service does.
PRIVATE_KINDS = ("hidden_tests", "quiz")
LANGUAGES = ("ru", "en")
NOQA_MODES = ("ignored", "honoured")
DEPENDENCY_POLICIES = ("image", "allowlist", "declared")
TEST_DATABASES = ("sqlite", "postgres")
DEFAULT_GROUPS = ("dev", "test", "tests", "testing")
PRAGMA_MODES = ("ignored", "honoured")  # coverage's exclusion pragmas (`# pragma: no cover`)
# How a `command` check reads its verdict: the command's exit status, a JUnit XML file it wrote, or a
# coverage summary JSON file it wrote (Istanbul's `json-summary`: `total.lines.pct`).
COMMAND_RESULTS = ("exit_code", "junit", "coverage_summary")
# The harness' steps that the checks of each Python kind need (a `command` check is a step of its own).
PYTHON_STEPS = ("lint", "tests", "hidden_tests", "migrations")  # in the order the harness runs them
COMMAND_STEP_PREFIX = "command:"  # the harness' step of a command check: `command:<check id>`
STEPS_OF_KIND = {"lint": "lint", "tests": "tests", "coverage": "tests", "hidden_tests": "hidden_tests",
                 "migrations": "migrations"}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    anchor: str


@dataclass(frozen=True)
class Band:
    """A grade: its lower bound on the score, and the checks that must pass for it (the lesson's
    "S: tests green, coverage at the target, clean style"), by check id."""

    name: str
    min: float
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class HiddenTest:
    """What the rubric says of one hidden test, by its function name: the lesson sections it checks,
    a one-line hint in the rubric's language, and its weight within the hidden-tests check."""

    name: str
    sections: tuple[str, ...] = ()
    hint: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class LintRules:
    select: tuple[str, ...]
    ignore: tuple[str, ...] = ()
    line_length: int = 100
    noqa: str = "ignored"  # "ignored": suppression comments hide nothing; "honoured": they do
    exclude: tuple[str, ...] = ()  # ruff patterns of files not linted; nothing else is ever skipped
    # ruff settings passed through as `--config KEY=VALUE` (e.g. "lint.flake8-bugbear.extend-immutable-calls",
    # "lint.per-file-ignores", "target-version"), values as TOML would hold them
    settings: tuple[tuple[str, object], ...] = ()
    comment_max_findings: int = 20  # findings listed in the PR comment; the rest are counted


@dataclass(frozen=True)
class DependencyRules:
    """What a submission may install beyond the runner image (`[dependencies]`).

    `image`: nothing; `allowlist`: the rubric's `extras` for every submission (one shared environment);
    `declared`: what the submission's manifests declare, plus `extras`. Wheels only, always.
    """

    policy: str = "image"
    extras: tuple[str, ...] = ()  # requirements installed for every submission (allowlist, declared)
    deny: tuple[str, ...] = ()  # name patterns never installed, directly or as a dependency: a failure
    ignore: tuple[str, ...] = ()  # name patterns left out quietly: tools that never run in grading
    groups: tuple[str, ...] = DEFAULT_GROUPS  # optional/dev groups installed with the main requirements
    max_packages: int = 60
    max_mb: int = 300
    max_seconds: int = 180


@dataclass(frozen=True)
class RunnerEnvironment:
    """The student's tests' and migrations' environment (`[runner.env]`), not secrets; values may hold
    `{database_url}`, `{postgres_url}`, `{postgres_host}`, `{postgres_port}`, `{postgres_user}`,
    `{postgres_db}`."""

    env: tuple[tuple[str, str], ...] = ()
    tests_database: str = "sqlite"  # what `{database_url}` means in the student's tests


@dataclass(frozen=True)
class QuizSpec:
    key_path: Path  # stays on the host: the key never enters the container
    answers_file: str  # inside the student's repository
    pass_percent: float = 80.0


@dataclass(frozen=True)
class CommandSpec:
    """A `command` check: what runs (as the student, in the submission's folder, under the run's limits)
    and where its verdict is. A check with `run_of` runs nothing and reads a file of another check's run."""

    argv: tuple[str, ...] = ()
    timeout_seconds: float = 60.0
    results: str = "exit_code"
    results_file: str = ""  # relative to the submission; written by the command, removed before it runs
    run_of: str = ""  # the id of the command check whose run this check reads


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    title: str
    points: float
    sections: tuple[str, ...] = ()
    max_findings: int = 0  # lint: full points at or below
    zero_at: int = 20  # lint: no points at or above
    min_percent: float = 80.0  # coverage: full points at or above
    zero_at_percent: float = 40.0  # coverage: no points at or below
    command: CommandSpec | None = None  # command: what runs and where its verdict is

    @property
    def step_id(self) -> str:
        """The harness step whose result this check reads ("" for the quiz, graded on the host)."""
        if self.command is not None:
            return f"{COMMAND_STEP_PREFIX}{self.command.run_of or self.id}"
        return STEPS_OF_KIND.get(self.kind, "")


@dataclass(frozen=True)
class Rubric:
    id: str
    title: str
    version: str
    language: str
    remediation_base_url: str
    grades: tuple[Band, ...]  # best first, lower bounds descending; the last band starts at 0
    sections: Mapping[str, Section]
    lint: LintRules
    checks: tuple[Check, ...]
    path: Path
    sha256: str
    packages: tuple[str, ...] = ()
    image: str = ""  # the runner image this rubric needs (a variant); "" for the configured one
    system_packages: tuple[str, ...] = ()  # Debian packages of a runner variant (e.g. nodejs, npm)
    node_packages: tuple[str, ...] = ()  # npm packages of a runner variant, in /opt/node
    python_paths: tuple[str, ...] = ()
    dependencies: DependencyRules = DependencyRules()
    environment: RunnerEnvironment = RunnerEnvironment()
    # Files of the rubric's the checks read in the container's public folder (/grader/public/<name>),
    # e.g. a pinned linter configuration, so the student's own configuration decides nothing
    public_files: tuple[Path, ...] = ()
    hidden_tests_dir: Path | None = None
    probe_path: Path | None = None  # the student-side half of the hidden checks (public, not secret)
    hidden_package: str = ""  # the package the hidden checks import (e.g. "app"), found wherever the student put it
    quiz: QuizSpec | None = None
    coverage_pragmas: str = "ignored"  # "honoured": `# pragma: no cover` excludes code from coverage
    hidden_tests: Mapping[str, HiddenTest] = field(default_factory=dict)  # by test function name

    def public(self) -> Rubric:
        """This rubric without its private checks, and without their hidden tests and quiz key. A band's
        requirement on a private check is left to the service, whose grade is the one that counts."""
        checks = tuple(check for check in self.checks if check.kind not in PRIVATE_KINDS)
        kept = {check.id for check in checks}
        grades = tuple(replace(band, requires=tuple(c for c in band.requires if c in kept)) for band in self.grades)
        return replace(self, checks=checks, grades=grades, hidden_tests_dir=None, probe_path=None, quiz=None,
                       hidden_tests={})

    @property
    def private_checks(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.kind in PRIVATE_KINDS)

    @property
    def max_points(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def step_ids(self) -> tuple[str, ...]:
        """The harness steps this rubric's checks need, each once: the Python steps in the harness' order,
        then the command steps in the checks' order."""
        needed = dict.fromkeys(check.step_id for check in self.checks if check.step_id)
        python = (step for step in PYTHON_STEPS if step in needed)
        return (*python, *(step for step in needed if step not in PYTHON_STEPS))

    @property
    def commands(self) -> dict[str, CommandSpec]:
        """Each command step with what it runs and every results file its checks read."""
        steps: dict[str, CommandSpec] = {}
        for check in self.checks:
            if check.command is not None and not check.command.run_of:
                steps[check.step_id] = check.command
        return steps

    @property
    def command_files(self) -> dict[str, dict[str, str]]:
        """Each command step's results files, with how each is read (`junit`, `coverage_summary`)."""
        files: dict[str, dict[str, str]] = {step: {} for step in self.commands}
        for check in self.checks:
            if check.command is not None and check.command.results_file:
                files[check.step_id][check.command.results_file] = check.command.results
        return files

    def section_links(self, section_ids: Iterable[str]) -> list[Remediation]:
        """The lesson sections to reread, as titled links on the remediation base URL."""
        base = self.remediation_base_url.rstrip("/")
        return [Remediation(title=self.sections[section].title, url=f"{base}{self.sections[section].anchor}")
                for section in section_ids if section in self.sections]

    def grade_for(self, score: float, passed: Collection[str] | None = None) -> str:
        """The best band the score reaches whose required checks are all in `passed` (None: the
        score's band alone, as for an instructor's override)."""
        return next((band.name for band in self.grades if score >= band.min
                     and (passed is None or set(band.requires) <= set(passed))), self.grades[-1].name)

    def lower(self, first: str, second: str) -> str:
        """The worse of two bands (a band this rubric does not know counts as the lowest)."""
        names = self.band_names
        rank = {name: position for position, name in enumerate(names)}
        return max(first, second, key=lambda name: rank.get(name, len(names)))

    def band(self, name: str) -> Band | None:
        return next((band for band in self.grades if band.name == name), None)

    def check(self, check_id: str) -> Check | None:
        return next((check for check in self.checks if check.id == check_id), None)

    @property
    def band_names(self) -> list[str]:
        """The grade bands, best first."""
        return [band.name for band in self.grades]

    def next_band(self, grade: str) -> Band | None:
        """The band just above `grade`, None at the top."""
        names = self.band_names
        position = names.index(grade) if grade in names else len(names)
        return self.grades[position - 1] if position > 0 else None


@dataclass(frozen=True)
class RubricSet:
    """The rubrics a service runs with: the configured one (`GRADER_RUBRIC`) and, with a course file,
    each assignment's own. A submission of no (or an unknown) assignment is graded with the default."""

    default: Rubric
    by_assignment: Mapping[str, Rubric] = field(default_factory=dict)

    def for_assignment(self, assignment_id: str | None) -> Rubric:
        if assignment_id is None:
            return self.default
        return self.by_assignment.get(assignment_id, self.default)
