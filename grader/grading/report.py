"""The grading report: what happened inside the sandbox, as typed, versioned, JSON-serialisable data.

A report says what ran and what came out, never what it is worth: points and grades come from the
rubric (`grader.grading.scoring`). Only machine-readable output (ruff JSON, the grader's pytest plugin
results with coverage JSON, the migration test's findings, the tamper scan) is parsed into it.
"""

from __future__ import annotations

import enum

import msgspec

REPORT_SCHEMA_VERSION = 2


class StepStatus(enum.StrEnum):
    OK = "ok"  # the step ran to the end; its findings say whether the student's code is right
    FAILED = "failed"  # the step ran and the student's code failed it
    TIMEOUT = "timeout"  # the student's code ran past the step's wall-clock limit
    OOM = "oom"  # the student's code ran out of memory
    NOT_RUN = "not_run"  # a precondition was missing (e.g. no Alembic set-up)
    INCOMPLETE = "incomplete"  # the tool never reached its own end (e.g. pytest's session end): nothing counts


class LintFinding(msgspec.Struct, frozen=True):
    file: str
    line: int
    column: int
    code: str
    message: str
    url: str = ""
    end_line: int | None = None
    end_column: int | None = None


class TestCase(msgspec.Struct, frozen=True):
    id: str
    outcome: str  # "passed" | "failed" | "error" | "skipped"
    message: str = ""
    duration_seconds: float = 0.0


class FileCoverage(msgspec.Struct, frozen=True):
    path: str
    percent: float
    missing_lines: list[int] = []


class Coverage(msgspec.Struct, frozen=True):
    percent: float
    files: list[FileCoverage] = []


class MigrationStep(msgspec.Struct, frozen=True):
    name: str  # "upgrade", "downgrade", "upgrade_again", "drift", "single_head"
    ok: bool
    duration_seconds: float = 0.0
    error_lines: list[str] = []


class QuizResult(msgspec.Struct, frozen=True):
    answered: int
    correct: int
    total: int
    error: str = ""  # set when the answers file is missing or malformed


class DependencyNote(msgspec.Struct, frozen=True):
    """Something of the manifests that was not installed: `kind` says why, `subject` is the line or file.

    kinds: "editable", "option", "path", "url", "invalid" (a declared line), and "link", "unreadable",
    "not_regular", "too_large", "not_toml", "outside" (a manifest file that could not be read).
    """

    kind: str
    subject: str


class ImageVersion(msgspec.Struct, frozen=True):
    """A package the runner image provides at a version the submission's declaration excludes: the
    image's runs (it comes first on sys.path, so nothing can replace the grader's own tools)."""

    name: str
    version: str  # the image's
    declared: str  # the declared specifier


class DependencyReport(msgspec.Struct, frozen=True):
    """The submission's own dependencies: what was installed from which manifest, or why not."""

    policy: str  # the rubric's: "image" | "allowlist" | "declared"
    python: str = ""  # the runner image's Python, which the wheels are for
    source: str = ""  # the manifest files read, e.g. "uv.lock + pyproject.toml"
    packages: list[str] = []  # installed, "name==version"
    cached: bool = False
    seconds: float = 0.0
    failure: str = ""  # "no_wheel" | "not_found" | "conflict" | "over_count" | "over_size" | "over_time" |
    # "denied" | "error"; empty when everything declared and allowed was installed
    detail: str = ""  # the package(s) or limit the failure is about: "12 > 10" (packages), "410 > 300" (MB), "240" (s)
    denied: list[str] = []  # declared names the rubric refuses (the rest was installed)
    notes: list[DependencyNote] = []  # declared lines left out and manifests not read, with why
    image_versions: list[ImageVersion] = []  # the image's versions used instead of declared ones
    from_image: list[str] = []  # declared names the image provides (not installed again)


class TamperFinding(msgspec.Struct, frozen=True):
    """Code in the submission that could forge what a check measures in the student's own process.

    Listed for the instructor; the checks named in `checks` (by kind) are marked "needs review"
    instead of being credited.
    """

    file: str
    line: int
    kind: str  # e.g. "coverage_api", "process_exit" (grader.grading.tamper, grader.texts.tamper_kinds)
    detail: str  # in English, for the instructor
    name: str = ""  # the construct found, e.g. "os._exit"
    checks: list[str] = []


class CommandFile(msgspec.Struct, frozen=True):
    """A results file a rubric's command wrote, as parsed (JUnit tests or a coverage summary)."""

    name: str  # relative to the submission
    tests: list[TestCase] = []
    coverage: Coverage | None = None
    error: str = ""  # why it gave nothing: "missing" (not written, or too large) or "malformed"


class CommandRun(msgspec.Struct, frozen=True):
    """One run of a rubric's command (`command:<check id>`): its exit status and the files it wrote."""

    step: str
    exit_code: int | None = None
    files: list[CommandFile] = []

    def file(self, name: str) -> CommandFile | None:
        return next((item for item in self.files if item.name == name), None)


class StepResult(msgspec.Struct, frozen=True):
    id: str  # "dependencies", "lint", "tests", "hidden_tests", "migrations", "quiz"
    status: StepStatus
    summary: str
    duration_seconds: float = 0.0
    truncated: bool = False
    output_tail: str = ""  # the last lines of the step's own output, for the student
    # why the step could not start (pytest died while importing or collecting): the error's headline,
    # then the output's last lines
    error_lines: list[str] = []


class Report(msgspec.Struct, kw_only=True):
    schema_version: int = REPORT_SCHEMA_VERSION
    steps: list[StepResult] = []
    lint: list[LintFinding] = []
    tests: list[TestCase] = []
    hidden_tests: list[TestCase] = []
    coverage: Coverage | None = None
    migrations: list[MigrationStep] = []
    quiz: QuizResult | None = None
    dependencies: DependencyReport | None = None
    tool_versions: dict[str, str] = {}
    image_digest: str = ""
    rubric_sha256: str = ""
    started_at: str = ""
    duration_seconds: float = 0.0
    truncated: list[str] = []  # what was cut, e.g. "tests output after 1,000,000 bytes"
    tamper: list[TamperFinding] = []
    commands: list[CommandRun] = []
    rejected: str = ""  # why the push could not be graded at all (unsafe archive, too large, ...)

    def step(self, step_id: str) -> StepResult | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def command(self, step_id: str) -> CommandRun | None:
        return next((run for run in self.commands if run.step == step_id), None)


class InfrastructureError(RuntimeError):
    """Grading could not run for a reason that is not the student's (no engine, no image, host kill).

    The queue retries these; a student's timeout or out-of-memory is a `StepResult`, not this.
    """
