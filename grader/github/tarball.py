"""The student's code at one SHA, through the tarball endpoint, unpacked without trusting the archive.

The archive is the student's: it may be huge, hold links, or name paths outside the folder. It is
streamed to a file under a byte cap, and only regular files and directories with safe relative
paths are extracted, below the cap in total.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import requests
from github.Repository import Repository

from grader.github.client import translate_errors
from grader.github.errors import PermanentGitHubError, RetryLater

CHUNK_BYTES = 1 << 16
MAX_MEMBERS = 20_000


class UnsafeArchiveError(PermanentGitHubError):
    """The archive is too large or not a plain tree of files; grading it again would not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(413, reason)
        self.args = (f"the repository cannot be graded: {reason}",)


def archive_link(repo: Repository, sha: str) -> str:
    with translate_errors():
        return repo.get_archive_link("tarball", sha)


def download(url: str, target: Path, max_bytes: int, timeout: float = 60.0) -> None:
    """Streams `url` into `target`, stopping as soon as the body passes `max_bytes`."""
    received = 0
    try:
        with requests.get(url, stream=True, timeout=timeout) as response, target.open("wb") as out:
            if response.status_code >= 500:
                raise RetryLater(30.0, f"tarball download answered {response.status_code}")
            if response.status_code != 200:
                raise PermanentGitHubError(response.status_code, "tarball download failed")
            for chunk in response.iter_content(CHUNK_BYTES):
                received += len(chunk)
                if received > max_bytes:
                    raise UnsafeArchiveError(f"the repository archive is larger than {max_bytes} bytes")
                out.write(chunk)
    except requests.RequestException as exc:
        raise RetryLater(30.0, f"tarball download failed: {type(exc).__name__}") from exc


def _inner_path(name: str) -> PurePosixPath | None:
    """The member path below GitHub's top folder (`owner-repo-sha/`), or None for the folder itself."""
    parts = PurePosixPath(name).parts[1:]
    if any(part in {"..", ""} for part in parts) or name.startswith("/"):
        raise UnsafeArchiveError(f"the archive names a path outside its folder: {name[:200]!r}")
    return PurePosixPath(*parts) if parts else None


def safe_extract(archive: Path, dest: Path, max_bytes: int) -> None:
    """Extracts regular files and directories only; links and devices are refused."""
    total = 0
    with tarfile.open(archive, "r:*") as tar:
        for count, member in enumerate(tar, start=1):
            if count > MAX_MEMBERS:
                raise UnsafeArchiveError(f"the archive has more than {MAX_MEMBERS} entries")
            if member.issym() or member.islnk() or not (member.isfile() or member.isdir()):
                raise UnsafeArchiveError(f"the archive holds a link or special file: {member.name[:200]!r}")
            inner = _inner_path(member.name)
            if inner is None:
                continue
            target = dest / inner
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            total += member.size
            if total > max_bytes:
                raise UnsafeArchiveError(f"the unpacked repository is larger than {max_bytes} bytes")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:  # a regular file always has data; anything else was refused above
                raise UnsafeArchiveError(f"{member.name} has no data")
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


def fetch_tree(repo: Repository, sha: str, dest: Path, max_bytes: int) -> Path:
    """Downloads and unpacks the repository at `sha` into `dest` (created; must not hold files)."""
    dest.mkdir(parents=True, exist_ok=True)
    link = archive_link(repo, sha)
    with tempfile.TemporaryDirectory(prefix="grader-tarball-") as scratch:
        archive = Path(scratch) / "repo.tar.gz"
        download(link, archive, max_bytes)
        try:
            safe_extract(archive, dest, max_bytes)
        except tarfile.TarError as exc:
            raise UnsafeArchiveError(f"the repository archive cannot be read: {exc}") from exc
    return dest
