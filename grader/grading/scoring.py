"""Report + rubric → points per check, score 0-100, grade, remediation links and what reaches the
next grade. Pure and deterministic: no I/O, the same inputs always give the same `GradeResult`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from grader.grading.report import Report, StepStatus, TamperFinding, TestCase
from grader.grading.result import CheckGrade, FailedTest, GradeResult, Remediation, UnmetRequirement
from grader.grading.rubric import Check, Rubric
from grader.texts import Texts, texts_for

MIGRATION_STEPS = ("upgrade", "downgrade", "upgrade_again", "drift", "single_head")
RESULTS_FORMATS = {"junit": "JUnit XML", "coverage_summary": "json-summary (Istanbul)", "exit_code": ""}

Scored = tuple[float, bool, str]  # points, passed, one-line summary


def _text(rubric: Rubric, key: str, **values: object) -> str:
    template: str = getattr(texts_for(rubric.language), f"summary_{key}")
    return template.format(**values)


def _linear(value: float, full_at: float, zero_at: float) -> float:
    """1.0 at full_at, 0.0 at zero_at, linear in between (works for either direction)."""
    share = (value - zero_at) / (full_at - zero_at)
    return min(max(share, 0.0), 1.0)


def _unfinished(report: Report, check: Check, rubric: Rubric) -> str | None:
    """Why the step behind a check gives no points at all (timeout, OOM, not run), else None."""
    step = report.step(check.step_id)
    if step is None or step.status in (StepStatus.OK, StepStatus.FAILED):
        return None
    if step.status in (StepStatus.NOT_RUN, StepStatus.INCOMPLETE):
        return step.summary
    return _text(rubric, "not_finished", step=step.status.value, summary=step.summary)


def _lint(report: Report, check: Check, rubric: Rubric) -> Scored:
    step = report.step("lint")
    if step is not None and step.status is StepStatus.FAILED and not report.lint:
        return 0.0, False, step.summary
    count = len(report.lint)
    share = 1.0 if count <= check.max_findings else _linear(count, check.max_findings, check.zero_at)
    common = Counter(finding.code for finding in report.lint).most_common(3)
    top = (": " + ", ".join(f"{code} ×{n}" for code, n in common)) if common else ""
    summary = _text(rubric, "findings", count=count, top=top) if count else _text(rubric, "clean")
    return check.points * share, count <= check.max_findings, summary


def _test_share(cases: list[TestCase], rubric: Rubric) -> Scored:
    passed = sum(case.outcome == "passed" for case in cases)
    counted = [case for case in cases if case.outcome != "skipped"]
    if not counted:
        return 0.0, False, _text(rubric, "no_tests")
    failed = len(counted) - passed
    return passed / len(counted), failed == 0, _text(rubric, "tests", passed=passed, total=len(counted))


def _tests(report: Report, check: Check, rubric: Rubric) -> Scored:
    step = report.step("tests")
    if step is not None and step.error_lines and not report.tests:
        return 0.0, False, _text(rubric, "tests_not_started", error=step.error_lines[0])
    share, passed, summary = _test_share(report.tests, rubric)
    return check.points * share, passed, summary


def _weighted_share(cases: list[TestCase], rubric: Rubric) -> float:
    """The passed share of the hidden tests, each counted with its weight in the rubric (default 1)."""
    def weight(case: TestCase) -> float:
        spec = rubric.hidden_tests.get(test_name(case.id))
        return spec.weight if spec else 1.0
    counted = [case for case in cases if case.outcome != "skipped"]
    total = sum(weight(case) for case in counted)
    return sum(weight(case) for case in counted if case.outcome == "passed") / total if total else 0.0


def _hidden_tests(report: Report, check: Check, rubric: Rubric) -> Scored:
    step = report.step("hidden_tests")
    if step is not None and not report.hidden_tests:
        return 0.0, False, step.summary
    _, passed, summary = _test_share(report.hidden_tests, rubric)
    return check.points * _weighted_share(report.hidden_tests, rubric), passed, summary


def test_name(test_id: str) -> str:
    """`tests/test_x.py::TestA::test_b[1]` -> `test_b`: the name a rubric keys a hidden test by."""
    return test_id.rsplit("::", 1)[-1].split("[", 1)[0]


def failed_tests(report: Report, check: Check, rubric: Rubric) -> list[FailedTest]:
    """The failed hidden tests, each with the rubric's hint and its own sections (the check's when the
    rubric declares none for it)."""
    if check.kind != "hidden_tests" or report.rejected:
        return []
    failed = []
    for case in report.hidden_tests:
        if case.outcome not in ("failed", "error"):
            continue
        spec = rubric.hidden_tests.get(test_name(case.id))
        sections = spec.sections if spec and spec.sections else check.sections
        failed.append(FailedTest(id=test_name(case.id), hint=spec.hint if spec else "", message=case.message,
                                 remediation=rubric.section_links(sections)))
    return failed


def _remediation(check: Check, failed: list[FailedTest], rubric: Rubric) -> list[Remediation]:
    """The sections of what failed: the failed hidden tests' own, else the check's."""
    if not failed:
        return rubric.section_links(check.sections)
    seen: dict[str, Remediation] = {}
    for item in failed:
        for link in item.remediation:
            seen.setdefault(link.url, link)
    return list(seen.values())


def _coverage(report: Report, check: Check, rubric: Rubric) -> Scored:
    if report.coverage is None:
        return 0.0, False, _text(rubric, "no_coverage")
    percent = report.coverage.percent
    share = _linear(percent, check.min_percent, check.zero_at_percent)
    return check.points * share, percent >= check.min_percent, _text(
        rubric, "coverage", percent=percent, target=check.min_percent)


def _migrations(report: Report, check: Check, rubric: Rubric) -> Scored:
    step = report.step("migrations")
    if step is not None and step.status is StepStatus.NOT_RUN:
        return 0.0, False, step.summary
    ok = {item.name for item in report.migrations if item.ok}
    passed = [name for name in MIGRATION_STEPS if name in ok]
    failed = [name for name in MIGRATION_STEPS if name not in ok]
    suffix = f" ({', '.join(failed)})" if failed else ""
    summary = _text(rubric, "migrations", ok=len(passed), total=len(MIGRATION_STEPS), failed=suffix)
    return check.points * len(passed) / len(MIGRATION_STEPS), not failed, summary


def _quiz(report: Report, check: Check, rubric: Rubric) -> Scored:
    quiz = report.quiz
    if quiz is None:
        return 0.0, False, _text(rubric, "no_quiz")
    if quiz.error or quiz.total == 0:
        return 0.0, False, quiz.error or _text(rubric, "no_quiz")
    target = rubric.quiz.pass_percent if rubric.quiz else 80.0
    passed = quiz.correct * 100 / quiz.total >= target
    return (check.points if passed else 0.0), passed, _text(
        rubric, "quiz", correct=quiz.correct, total=quiz.total, target=target)


def _command(report: Report, check: Check, rubric: Rubric) -> Scored:
    """A command check: its exit status, or the JUnit tests or coverage summary its command wrote."""
    spec, run = check.command, report.command(check.step_id)
    if spec is None or run is None:
        return 0.0, False, _text(rubric, "command_not_run")
    if spec.results == "exit_code":
        passed = run.exit_code == 0
        return (check.points if passed else 0.0), passed, _text(
            rubric, "command_ok" if passed else "command_failed", code=run.exit_code)
    found = run.file(spec.results_file)
    if found is None or found.error:
        key = "command_malformed" if found is not None and found.error == "malformed" else "command_missing"
        return 0.0, False, _text(rubric, key, file=spec.results_file, format=RESULTS_FORMATS[spec.results])
    if spec.results == "junit":
        share, passed, summary = _test_share(found.tests, rubric)
        return check.points * share, passed, summary
    assert found.coverage is not None  # a coverage summary file without an error has its coverage
    share = _linear(found.coverage.percent, check.min_percent, check.zero_at_percent)
    return check.points * share, found.coverage.percent >= check.min_percent, _text(
        rubric, "coverage", percent=found.coverage.percent, target=check.min_percent)


SCORERS: dict[str, Callable[[Report, Check, Rubric], Scored]] = {
    "lint": _lint, "tests": _tests, "coverage": _coverage, "migrations": _migrations,
    "hidden_tests": _hidden_tests, "quiz": _quiz, "command": _command,
}


def _scored(report: Report, check: Check, rubric: Rubric) -> Scored:
    """One check's points; a step stopped by a limit scores 0 (migrations keep the steps that passed)."""
    if report.rejected:
        return 0.0, False, report.rejected
    unfinished = _unfinished(report, check, rubric)
    if unfinished and check.kind != "migrations":
        return 0.0, False, unfinished
    points, passed, summary = SCORERS[check.kind](report, check, rubric)
    return (points, False, unfinished) if unfinished else (points, passed, summary)


def _review(findings: list[TamperFinding], rubric: Rubric) -> str:
    """The summary of a check withheld for review: its first finding, and how many more there are."""
    first, texts = findings[0], texts_for(rubric.language)
    detail = texts.tamper_kinds.get(first.kind, first.detail).format(name=first.name)
    more = f" (+{len(findings) - 1})" if len(findings) > 1 else ""
    return _text(rubric, "needs_review", where=f"{first.file}:{first.line}", detail=detail, more=more)


def grade_check(report: Report, check: Check, rubric: Rubric) -> CheckGrade:
    """One check's grade; a check the tamper scan puts at risk is withheld ("needs review"), not credited."""
    points, passed, summary = _scored(report, check, rubric)
    names = {check.kind, f"command:{check.command.results}" if check.command else check.kind}
    at_risk = [item for item in report.tamper if names & set(item.checks)] if not report.rejected else []
    if at_risk:
        points, passed, summary = 0.0, False, _review(at_risk, rubric)
    failed = [] if passed or at_risk else failed_tests(report, check, rubric)
    return CheckGrade(id=check.id, title=check.title, passed=passed, points=round(points, 2),
                      max_points=check.points, summary=summary.splitlines()[0] if summary else "",
                      remediation=[] if passed else _remediation(check, failed, rubric),
                      needs_review=bool(at_risk), failed_tests=failed)


def percent(points: float, rubric: Rubric) -> float:
    return round(100 * points / rubric.max_points, 1) if rubric.max_points else 0.0


def passed_ids(checks: list[CheckGrade]) -> set[str]:
    return {check.id for check in checks if check.passed}


def held_back(checks: list[CheckGrade], rubric: Rubric, score_value: float) -> list[UnmetRequirement]:
    """Each check that the score's own band requires and did not pass, with its one-line reason."""
    band = rubric.band(rubric.grade_for(score_value))
    if band is None:
        return []
    texts, by_id = texts_for(rubric.language), {check.id: check for check in checks}
    unmet = [by_id[check_id] for check_id in band.requires if check_id in by_id and not by_id[check_id].passed]
    return [UnmetRequirement(band=band.name, check=check.id, reason=texts.requirement.format(
        band=band.name, need=_need(rubric, check, texts), summary=check.summary)) for check in unmet]


def _need(rubric: Rubric, check: CheckGrade, texts: Texts) -> str:
    spec = rubric.check(check.id)
    return texts.requirement_kinds.get(spec.kind, check.title) if spec else check.title


def to_next_grade(checks: list[CheckGrade], rubric: Rubric, grade: str) -> tuple[str | None, list[str]]:
    """The next band and the cheapest way there: every check it requires that did not pass, then the
    fewest failing checks whose full points reach its lower bound (largest gains first)."""
    band = rubric.next_band(grade)
    if band is None:
        return None, []
    by_id = {check.id: check for check in checks}
    chosen = [check_id for check_id in band.requires if check_id in by_id and not by_id[check_id].passed]
    total = sum(check.max_points if check.id in chosen else check.points for check in checks)
    gains = sorted((check for check in checks if check.points < check.max_points and check.id not in chosen),
                   key=lambda check: check.max_points - check.points, reverse=True)
    for check in gains:
        if percent(total, rubric) >= band.min:
            break
        total += check.max_points - check.points
        chosen.append(check.id)
    return band.name, chosen


def score(report: Report, rubric: Rubric, left_out: tuple[Check, ...] = ()) -> GradeResult:
    """The graded result; `left_out` are checks of the full rubric this run did not grade."""
    checks = [grade_check(report, check, rubric) for check in rubric.checks]
    value = percent(sum(check.points for check in checks), rubric)
    grade = rubric.grade_for(value, passed_ids(checks))
    next_grade, needed = to_next_grade(checks, rubric, grade)
    return GradeResult(score=value, grade=grade, bands=rubric.band_names, checks=checks, next_grade=next_grade,
                       to_next_grade=needed, held_back=held_back(checks, rubric, value),
                       graded_by_service=[check.title for check in left_out],
                       rubric_id=rubric.id, rubric_version=rubric.version, language=rubric.language,
                       lint_shown=rubric.lint.comment_max_findings, report=report)
