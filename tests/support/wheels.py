"""A package index on disk for tests: tiny wheels (and source-only releases) written directly, no build
backend and no network, served to uv as a PEP 503 simple index at a file:// URL."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.runner.dependencies.policy import normalize_name


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(folder: Path, name: str, version: str, files: Mapping[str, str],
                requires: Sequence[str] = (), tag: str = "py3-none-any") -> Path:
    """`name-version-tag.whl` holding `files` (path -> text) and the metadata a wheel needs."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {line}\n" for line in requires)
    entries = {**files, f"{info}/METADATA": metadata,
               f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: grader-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"}
    record = "".join(f"{path},{_record_hash(text.encode())},{len(text.encode())}\n" for path, text in entries.items())
    entries[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    target = folder / normalize_name(name) / f"{dist}-{version}-{tag}.whl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in entries.items():
            archive.writestr(path, text)
    return target


def write_sdist(folder: Path, name: str, version: str) -> Path:
    """A source-only release: an index entry no wheels-only install may use."""
    dist = name.replace("-", "_")
    target = folder / normalize_name(name) / f"{dist}-{version}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = f"[project]\nname = \"{name}\"\nversion = \"{version}\"\n".encode()
    with tarfile.open(target, "w:gz") as archive:
        info = tarfile.TarInfo(f"{dist}-{version}/pyproject.toml")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return target


def write_index(folder: Path) -> str:
    """The simple index pages of every project folder under `folder`; returns its file:// URL."""
    projects = sorted(path for path in folder.iterdir() if path.is_dir())
    for project in projects:
        files = [path for path in sorted(project.iterdir()) if path.name != "index.html"]
        links = "".join(f'<a href="{path.name}#sha256={hashlib.sha256(path.read_bytes()).hexdigest()}">'
                        f"{path.name}</a>\n" for path in files)
        (project / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
    (folder / "index.html").write_text("<!DOCTYPE html>\n<html><body>\n" + "".join(
        f'<a href="{project.name}/">{project.name}</a>\n' for project in projects) + "</body></html>\n")
    return folder.as_uri()
