"""Unpack the host's archive from stdin: regular files and folders only, nothing outside its root.

The host builds the archive from a checked folder already; this is the second line of defence, so a
link or an escaping path is a rejected submission, never a write outside the tmpfs.
"""

from __future__ import annotations

import json
import os
import posixpath
import tarfile
from typing import IO, Any

from .protocol import (
    ARCHIVE_CONFIG,
    ARCHIVE_HIDDEN,
    ARCHIVE_PLUGIN,
    ARCHIVE_PROBE,
    ARCHIVE_SUBMISSION,
    HIDDEN_PLUGIN_DIR,
    HIDDEN_TESTS_DIR,
    PUBLIC_DIR,
    SUBMISSION_DIR,
)

TARGETS = {ARCHIVE_SUBMISSION: SUBMISSION_DIR, ARCHIVE_HIDDEN: HIDDEN_TESTS_DIR, ARCHIVE_PLUGIN: HIDDEN_PLUGIN_DIR,
           ARCHIVE_PROBE: PUBLIC_DIR}


class RejectedArchive(Exception):
    """The archive holds something the grader does not accept; the message says what."""


def unpack(stream: IO[bytes]) -> dict[str, Any]:
    """Extract the archive into the tmpfs folders and return its config."""
    config: dict[str, Any] | None = None
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            if member.name == ARCHIVE_CONFIG and member.isfile():
                config = json.loads(_read(archive, member))
                if not isinstance(config, dict):
                    raise RejectedArchive("config.json is not an object")
                continue
            _extract(archive, member)
    if config is None:
        raise RejectedArchive("the archive has no config.json")
    return config


def _destination(name: str) -> str:
    normal = posixpath.normpath(name)
    top, _, rest = normal.partition("/")
    if normal.startswith(("/", "..")) or top not in TARGETS or ".." in normal.split("/"):
        raise RejectedArchive(f"path {name!r} escapes the submission folder")
    return posixpath.join(TARGETS[top], rest) if rest else TARGETS[top]


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    destination = _destination(member.name)
    if member.isdir():
        os.makedirs(destination, mode=0o755, exist_ok=True)
    elif member.isfile():
        os.makedirs(posixpath.dirname(destination), mode=0o755, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(destination, flags, 0o644), "wb") as handle:
            handle.write(_read(archive, member))
    else:
        raise RejectedArchive(f"{member.name!r} is a link or a special file; only regular files are accepted")


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle else b""


def chown_tree(root: str, uid: int, gid: int) -> None:
    """Hand a freshly unpacked tree to its user (the harness keeps no write access to it)."""
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)


def restrict_tree(root: str, gid: int) -> None:
    """Root-owned, readable by one group only: the hidden tests are never readable by the student."""
    if not os.path.isdir(root):
        return
    for folder, _, files in os.walk(root):
        os.chown(folder, 0, gid)
        os.chmod(folder, 0o750)  # noqa: S103 - group is the hidden tests user only
        for name in files:
            path = os.path.join(folder, name)
            os.chown(path, 0, gid, follow_symlinks=False)
            os.chmod(path, 0o640)
