"""What may be installed for a submission: pure decisions on declared requirements and resolved sets.

Declared lines are normalised (PEP 503 names, PEP 508 syntax); index options, editable installs, VCS,
URL and path requirements are left out with the reason (they would fetch from elsewhere or build
student code). A package the runner image already has is never installed again: the image's version
is the one that runs, so the resolution is constrained to it. The rubric's `[dependencies]` then says
what is allowed: nothing (`image`), a fixed set (`allowlist`), or what the submission declares
(`declared`), never a denied name, within caps on count, size and time.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement

from grader.grading.rubric import DependencyRules
from grader.runner.dependencies.manifests import Declared

# Per-line options of requirement files that only say how to download (never what).
LINE_OPTIONS = re.compile(r"\s+--(hash|global-option|config-settings|install-option)(=|\s+)\S+")
VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
PATH_PREFIXES = (".", "/", "~", "file:")
COMPILE_CACHE_VERSION = "1"  # part of every cache key: bump when the installed layout changes


@dataclass(frozen=True)
class ImageInfo:
    """What the runner image provides, read from the image once per digest."""

    digest: str
    python_version: str  # e.g. "3.11.2"
    platform: str  # uv's --python-platform, e.g. "x86_64-manylinux_2_36"
    distributions: Mapping[str, str] = field(default_factory=dict)  # normalised name -> version
    top_level: frozenset[str] = frozenset()  # importable names of the image: stdlib and site-packages
    namespaces: frozenset[str] = frozenset()  # namespace packages of the image (others may add to them)


@dataclass(frozen=True)
class Plan:
    """What to resolve, and what was left out of the declaration and why."""

    requirements: tuple[str, ...] = ()  # normalised PEP 508 lines, sorted
    constraints: tuple[str, ...] = ()  # lock pins of packages the image does not have
    skipped: tuple[tuple[str, str], ...] = ()  # (why, line): see parse_line
    denied: tuple[str, ...] = ()  # declared names the rubric denies
    from_image: tuple[str, ...] = ()  # declared names the image provides
    # (name, the image's version, the declared specifier) where the declaration excludes the image's version
    replaced: tuple[tuple[str, str, str], ...] = ()

    def image_pins(self, image: ImageInfo) -> tuple[str, ...]:
        return tuple(f"{name}=={version}" for name, version in sorted(image.distributions.items()))


@dataclass(frozen=True)
class Resolved:
    """A resolution split by the policy: what to install, what the image has, what is denied."""

    install: tuple[tuple[str, str], ...] = ()  # (name, version)
    denied: tuple[str, ...] = ()


def normalize_name(name: str) -> str:
    """PEP 503: runs of -, _ and . are one hyphen, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether a normalised name matches one of the rubric's name patterns (`nvidia-*`)."""
    return any(fnmatch.fnmatchcase(name, normalize_name(pattern)) for pattern in patterns)


def parse_line(line: str) -> Requirement | str:
    """A requirement, or why the line is left out: "editable", "option" (index and install options),
    "path", "url" (version control and URLs) or "invalid"."""
    text = LINE_OPTIONS.sub("", " " + line).strip()
    if text.startswith("-"):
        option = re.split(r"[\s=]", text, maxsplit=1)[0]
        return "editable" if option in ("-e", "--editable") else "option"
    if text.startswith(PATH_PREFIXES):
        return "path"
    if text.startswith(VCS_PREFIXES) or ("://" in text.split(";", 1)[0] and "@" not in text.split("://", 1)[0]):
        return "url"
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return "invalid"
    return "url" if requirement.url else requirement


def for_image(requirement: Requirement, image: ImageInfo) -> str:
    """The requirement as it is resolved: a package the image has keeps its extras and marker but not
    its version, which is the image's."""
    name = normalize_name(requirement.name)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    specifier = "" if name in image.distributions else str(requirement.specifier)
    marker = f" ; {requirement.marker}" if requirement.marker else ""
    return f"{name}{extras}{specifier}{marker}"


def plan_for(declared: Declared, rules: DependencyRules, image: ImageInfo) -> Plan:
    """The requirements to resolve under the rubric's policy."""
    if rules.policy == "image":
        return Plan()
    lines = list(rules.extras) + (list(declared.requirements) if rules.policy == "declared" else [])
    own = {normalize_name(name) for name in declared.project_names}
    requirements: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    denied: set[str] = set()
    from_image: set[str] = set()
    replaced: dict[str, tuple[str, str, str]] = {}
    for line in lines:
        parsed = parse_line(line)
        if isinstance(parsed, str):
            skipped.append((parsed, line.strip()[:120]))
            continue
        name = normalize_name(parsed.name)
        if name in own or matches(name, rules.ignore):
            continue
        if matches(name, rules.deny):
            denied.add(name)
            continue
        if name in image.distributions:
            from_image.add(name)
            version = image.distributions[name]
            if parsed.specifier and not parsed.specifier.contains(version, prereleases=True):
                replaced[name] = (name, version, str(parsed.specifier))
        requirements.setdefault(for_image(parsed, image), name)
    return Plan(requirements=tuple(sorted(requirements)), constraints=_constraints(declared.pins, image),
                skipped=tuple(skipped), denied=tuple(sorted(denied)), from_image=tuple(sorted(from_image)),
                replaced=tuple(replaced[name] for name in sorted(replaced)))


def _constraints(pins: Sequence[str], image: ImageInfo) -> tuple[str, ...]:
    kept: dict[str, str] = {}
    for line in pins:
        parsed = parse_line(line)
        if isinstance(parsed, Requirement) and normalize_name(parsed.name) not in image.distributions:
            name = normalize_name(parsed.name)
            kept[name] = f"{name}{parsed.specifier}" + (f" ; {parsed.marker}" if parsed.marker else "")
    return tuple(kept[name] for name in sorted(kept))


def split_resolved(pins: Iterable[tuple[str, str]], rules: DependencyRules, image: ImageInfo) -> Resolved:
    """A resolution (name, version) split: the image's packages dropped, denied ones (dependencies
    included) named."""
    install: list[tuple[str, str]] = []
    denied: list[str] = []
    for raw_name, version in pins:
        name = normalize_name(raw_name)
        if name in image.distributions:
            continue
        if matches(name, rules.deny):
            denied.append(name)
        else:
            install.append((name, version))
    return Resolved(install=tuple(sorted(install)), denied=tuple(sorted(denied)))


def parse_resolution(text: str) -> list[tuple[str, str]]:
    """`name==version` lines of `uv pip compile`'s output (comments and markers ignored)."""
    pins = []
    for line in text.splitlines():
        found = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if found:
            pins.append((normalize_name(found.group(1)), found.group(2)))
    return pins


def shadowing(top_level: Mapping[str, bool], image: ImageInfo) -> list[str]:
    """Installed top-level names (mapped to whether each is a namespace folder) that the image already
    has (its stdlib, pytest, the harness' tools), a regular package where the image has a namespace
    (it would win over the namespace), and the start-up hooks Python imports by name: they are removed
    before the folder is used. A namespace portion beside the image's namespace is left alone."""
    hooks = {"sitecustomize", "usercustomize"}
    return sorted(name for name, namespace in top_level.items()
                  if name in image.top_level or name in hooks or (name in image.namespaces and not namespace))


def cache_key(plan: Plan, image: ImageInfo, rules: DependencyRules, index_url: str) -> str:
    """Everything the installed folder depends on, hashed: the same inputs share one folder."""
    material = {"requirements": plan.requirements, "constraints": plan.constraints,
                "python": image.python_version, "platform": image.platform, "image": image.digest,
                "policy": [rules.policy, sorted(rules.deny), rules.max_packages, rules.max_mb],
                "index": index_url, "layout": COMPILE_CACHE_VERSION}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def platform_tag(machine: str, libc: str) -> str:
    """uv's `--python-platform` for a Linux image: manylinux at the image's glibc (capped at the newest
    uv knows), musllinux otherwise."""
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    found = re.match(r"glibc (\d+)\.(\d+)", libc)
    if not found:
        return f"{arch}-unknown-linux-musl"
    minor = min(int(found.group(2)), 40) if found.group(1) == "2" else 40
    return f"{arch}-manylinux_2_{max(minor, 17)}"
