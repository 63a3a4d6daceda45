"""Build the runner image: the repository's Dockerfile, the rubric's packages, an optional base.

The build context is a temporary folder assembled here (only what the Dockerfile copies), so the
host's CA bundle can go into it for pip behind a TLS-inspecting proxy without ever being written
to the repository. Docker's layer cache keeps rebuilds incremental: the package layer is rebuilt
only when the package list or the base changes, the harness layer when the harness changes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT_ENTRIES = ("Dockerfile", "pyproject.toml", "setup.py", "grader", "rubric", "docker/build-ca")
CA_NAME = "docker/build-ca/ca-bundle.crt"
HARNESS_DIR = "grader/runner/harness"
SKIPPED = ("__pycache__", ".pytest_cache", ".ruff_cache", "*.pyc")


def prepare_context(target: Path, root: Path = REPO_ROOT, ca_bundle: Path | None = None) -> Path:
    """Fill `target` with the Dockerfile's inputs and, when given, the host's CA bundle."""
    for entry in CONTEXT_ENTRIES:
        source = root / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=shutil.ignore_patterns(*SKIPPED), symlinks=True)
        elif source.is_file():
            (target / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / entry)
    if ca_bundle is not None:
        (target / CA_NAME).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ca_bundle, target / CA_NAME)
    return target


def harness_sha256(root: Path = REPO_ROOT) -> str:
    """A hash of the harness' files, names and contents, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted((root / HARNESS_DIR).rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_args(packages: tuple[str, ...], base: str | None, system_packages: tuple[str, ...] = (),
               node_packages: tuple[str, ...] = ()) -> dict[str, str]:
    args = {"RUNNER_PACKAGES": " ".join(packages), "HARNESS_SHA256": harness_sha256(),
            "SYSTEM_PACKAGES": " ".join(system_packages), "NODE_PACKAGES": " ".join(node_packages)}
    if base:
        args["BASE_IMAGE"] = base
    return args
