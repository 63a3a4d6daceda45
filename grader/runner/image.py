"""Build the runner image: the repository's Dockerfile, the rubric's packages, an optional base.

The build context is an archive assembled here (only what the Dockerfile copies), so the host's CA
bundle can go into it for pip behind a TLS-inspecting proxy without ever being written to the
repository. Docker's layer cache keeps rebuilds incremental: the package layer is rebuilt only when
the package list or the base changes, the harness layer when the harness changes.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT_ENTRIES = ("Dockerfile", "pyproject.toml", "grader", "rubric", "docker/build-ca")
CA_ENV = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
CA_NAME = "docker/build-ca/ca-bundle.crt"
SKIPPED = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def _skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = Path(info.name).parts
    if any(part in SKIPPED for part in parts) or info.name.endswith(".pyc") or info.issym():
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0  # identical content gives an identical context, so the cache is reused
    return info


def host_ca_bundle(env: Mapping[str, str]) -> Path | None:
    for name in CA_ENV:
        value = env.get(name, "").strip()
        if value and Path(value).is_file():
            return Path(value)
    return None


def build_context(root: Path = REPO_ROOT, env: Mapping[str, str] | None = None) -> bytes:
    """The build context archive: the Dockerfile's inputs and, when configured, the host CA bundle."""
    env = os.environ if env is None else env
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for entry in CONTEXT_ENTRIES:
            if (root / entry).exists():
                archive.add(root / entry, arcname=entry, filter=_skip)
        ca = host_ca_bundle(env)
        if ca is not None:
            info = _skip(archive.gettarinfo(str(ca), arcname=CA_NAME))
            with ca.open("rb") as handle:
                archive.addfile(info, handle)
    return buffer.getvalue()


def build_args(packages: tuple[str, ...], base: str | None) -> dict[str, str]:
    args = {"RUNNER_PACKAGES": " ".join(packages)}
    if base:
        args["BASE_IMAGE"] = base
    return args
