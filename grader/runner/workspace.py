"""Pack a checkout, the rubric's hidden tests and its probe into the archive the harness reads on stdin.

Nothing is followed: a symbolic link, a device or a FIFO anywhere in the checkout rejects the
submission with a reason the student can act on (a graded result, not a crash of the grader).
Compiled Python files (`*.pyc`, `__pycache__`) are left out: what runs is what was linted.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

from grader.runner.harness.protocol import (
    ARCHIVE_CONFIG,
    ARCHIVE_HIDDEN,
    ARCHIVE_PLUGIN,
    ARCHIVE_PROBE,
    ARCHIVE_SUBMISSION,
    HIDDEN_PLUGIN_MODULE,
    PROBE_FILE,
)

SKIPPED_NAMES = frozenset({".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".venv",
                           "venv", "node_modules", ".coverage"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


class SubmissionRejected(Exception):
    """The checkout holds something that is never graded; the message is the one-line reason."""


class _Archive:
    def __init__(self, size_limit: int) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.size_limit = size_limit
        self.size = 0

    def add_bytes(self, name: str, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.size_limit:
            raise SubmissionRejected(f"the submission is larger than {self.size_limit // 2**20} MB")
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, 0
        self.tar.addfile(info, io.BytesIO(data))

    def add_folder(self, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
        self.tar.addfile(info)

    def close(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def pack(checkout: Path, config: dict[str, Any], hidden_tests: Path | None, size_limit: int,
         probe: Path | None = None, public_files: tuple[Path, ...] = ()) -> bytes:
    """The archive: config.json, the checkout under submission/, the hidden tests under hidden/, the
    probe and the rubric's other public files (e.g. a pinned linter configuration) under probe/."""
    archive = _Archive(size_limit)
    archive.add_bytes(ARCHIVE_CONFIG, json.dumps(config).encode())
    archive.add_folder(ARCHIVE_SUBMISSION)
    _add_tree(archive, checkout, checkout, ARCHIVE_SUBMISSION)
    if hidden_tests is not None:
        archive.add_folder(ARCHIVE_HIDDEN)
        _add_tree(archive, hidden_tests, hidden_tests, ARCHIVE_HIDDEN, plugin=True)
    if probe is not None or public_files:
        archive.add_folder(ARCHIVE_PROBE)
    if probe is not None:
        archive.add_bytes(f"{ARCHIVE_PROBE}/{PROBE_FILE}", _read(str(probe)))
    for path in public_files:
        archive.add_bytes(f"{ARCHIVE_PROBE}/{path.name}", _read(str(path)))
    return archive.close()


def _add_tree(archive: _Archive, root: Path, folder: Path, prefix: str, plugin: bool = False) -> None:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda item: item.name):
            if entry.name in SKIPPED_NAMES or entry.name.endswith(SKIPPED_SUFFIXES):
                continue
            relative = Path(entry.path).relative_to(root).as_posix()
            if plugin and relative == "conftest.py":
                archive.add_folder(ARCHIVE_PLUGIN)
                archive.add_bytes(f"{ARCHIVE_PLUGIN}/{HIDDEN_PLUGIN_MODULE}.py", _read(entry.path))
                continue
            _add_entry(archive, root, entry, relative, prefix, plugin)


def _add_entry(archive: _Archive, root: Path, entry: os.DirEntry[str], relative: str, prefix: str,
               plugin: bool) -> None:
    mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISLNK(mode):
        target = Path(entry.path).readlink()
        raise SubmissionRejected(f"symbolic link {relative} -> {target} rejected: commit regular files only")
    if stat.S_ISDIR(mode):
        archive.add_folder(f"{prefix}/{relative}")
        _add_tree(archive, root, Path(entry.path), prefix, plugin)
    elif stat.S_ISREG(mode):
        archive.add_bytes(f"{prefix}/{relative}", _read(entry.path))
    else:
        raise SubmissionRejected(f"{relative} is not a regular file or folder: commit regular files only")


def _read(path: str) -> bytes:
    """Read without following a link swapped in after the scan."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
