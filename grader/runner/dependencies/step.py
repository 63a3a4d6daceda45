"""The dependency step of a run: manifests → policy → cached install, as one report entry.

It runs on the host before the container starts; the container gets the installed folder as a
read-only mount, or nothing. A failure the student can act on (no wheel, not found, over a cap,
denied) is a result with that reason, and the run goes on without the folder; an index that cannot
be reached is the infrastructure's (`InfrastructureError`, retried by the queue).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from grader.grading.report import DependencyNote, DependencyReport, ImageVersion, StepResult, StepStatus
from grader.grading.rubric import Rubric
from grader.runner.dependencies.install import DependencyCache, DependencyFailure, Installer
from grader.runner.dependencies.manifests import Declared, find_declared
from grader.runner.dependencies.policy import ImageInfo, Plan, normalize_name, plan_for, platform_tag
from grader.runner.sandbox import DockerSandbox
from grader.settings import DependencySettings

STEP_ID = "dependencies"


@dataclass(frozen=True)
class DependencyOutcome:
    report: DependencyReport
    step: StepResult
    mount: Path | None  # the folder to mount read-only, when something was installed


def image_info(data: Mapping[str, object], digest: str) -> ImageInfo:
    """The image probe's JSON as `ImageInfo`."""
    dists = data.get("distributions")
    return ImageInfo(
        digest=digest, python_version=str(data.get("python", "")),
        platform=platform_tag(str(data.get("machine", "")), str(data.get("libc", ""))),
        distributions={normalize_name(str(name)): str(version)
                       for name, version in (dists.items() if isinstance(dists, dict) else [])},
        top_level=frozenset(str(name) for name in _list(data.get("top_level"))),
        namespaces=frozenset(str(name) for name in _list(data.get("namespaces"))))


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


async def probe(sandbox: DockerSandbox, cache: DependencyCache, digest: str) -> ImageInfo:
    """What the image provides, probed once per image digest and kept beside the cache."""
    data = cache.image_info(digest)
    if data is None:
        data = await sandbox.probe_image()
        cache.save_image_info(digest, data)
    return image_info(data, digest)


async def install_dependencies(checkout: Path, rubric: Rubric, sandbox: DockerSandbox, settings: DependencySettings,
                               digest: str) -> DependencyOutcome:
    rules = rubric.dependencies
    if rules.policy == "image":
        return _outcome(DependencyReport(policy="image"), 0.0)
    declared = await asyncio.to_thread(find_declared, checkout, rubric.python_paths, rules.groups)
    return await _install(declared, rubric, sandbox, settings, digest)


async def prebuild(rubric: Rubric, sandbox: DockerSandbox, settings: DependencySettings) -> DependencyOutcome | None:
    """The rubric's own set (`extras`) installed before the first job: under `allowlist` it is every
    submission's environment, so no student waits for it; under `declared` it fills uv's download cache."""
    if rubric.dependencies.policy == "image" or not rubric.dependencies.extras:
        return None
    return await _install(Declared(), rubric, sandbox, settings, await sandbox.image_digest())


async def _install(declared: Declared, rubric: Rubric, sandbox: DockerSandbox, settings: DependencySettings,
                   digest: str) -> DependencyOutcome:
    rules = rubric.dependencies
    started = time.monotonic()
    cache = DependencyCache(settings, keep_seconds=2 * sandbox.settings.run_timeout_seconds + 60)
    image = await probe(sandbox, cache, digest)
    plan = plan_for(declared, rules, image)
    base = _base_report(declared, plan, rules.policy, image.python_version)
    if len(plan.requirements) > rules.max_packages:
        return _outcome(_with(base, failure="over_count", detail=f"{len(plan.requirements)} > {rules.max_packages}"),
                        started)
    if not plan.requirements:
        return _outcome(_denied(base), started)
    try:
        installed = await Installer(settings, cache, sandbox.compile_bytecode).ensure(plan, image, rules)
    except DependencyFailure as failure:
        return _outcome(_with(base, failure=failure.kind, detail=failure.detail), started)
    report = _denied(_with(base, packages=list(installed.packages), cached=installed.cached))
    if installed.left_out and not report.failure:
        kind = installed.left_out[0][0]
        report = _with(report, failure=kind, detail=", ".join(name for _, name in installed.left_out))
    return _outcome(report, started, installed.path if installed.packages else None)


def _base_report(declared: Declared, plan: Plan, policy: str, python: str) -> DependencyReport:
    """What the declaration and the policy say before anything is installed."""
    notes = [DependencyNote(kind, subject) for kind, subject in [*declared.problems, *plan.skipped]]
    replaced = [ImageVersion(name, version, specifier) for name, version, specifier in plan.replaced]
    return DependencyReport(policy=policy, python=python, source=declared.source, denied=list(plan.denied),
                            notes=notes, image_versions=replaced, from_image=list(plan.from_image))


def _with(report: DependencyReport, **changes: object) -> DependencyReport:
    return msgspec.structs.replace(report, **changes)


def _denied(report: DependencyReport) -> DependencyReport:
    """Declared names the rubric denies fail the step even though the rest is installed."""
    return _with(report, failure="denied", detail=", ".join(report.denied)) if report.denied else report


def _outcome(report: DependencyReport, started: float, mount: Path | None = None) -> DependencyOutcome:
    seconds = round(time.monotonic() - started, 3) if started else 0.0
    report = _with(report, seconds=seconds)
    status = StepStatus.FAILED if report.failure else StepStatus.OK
    if report.policy == "image":
        status = StepStatus.NOT_RUN
    return DependencyOutcome(report=report, mount=mount, step=StepResult(
        id=STEP_ID, status=status, summary=summary(report), duration_seconds=seconds))


def summary(report: DependencyReport) -> str:
    """One line in English for logs and the report; the comment words it in the rubric's language."""
    if report.policy == "image":
        return "the runner image's packages only (the rubric installs nothing else)"
    installed = f"{len(report.packages)} packages from {report.source}" if report.packages else ""
    if report.failure:
        reason = f"not installed: {report.failure.replace('_', ' ')}: {report.detail}"
        return f"{installed}; {reason}" if installed else reason
    if not report.packages:
        return f"nothing to install (from {report.source})" if report.source else "no manifest declares any"
    cached = " (cached)" if report.cached else ""
    return f"{installed}, {report.seconds:.1f} s{cached}"
