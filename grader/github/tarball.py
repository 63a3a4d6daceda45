"""The student's code at one SHA, through the tarball endpoint, unpacked without trusting the archive.

The archive is the student's: it may be huge, hold links, name paths outside the folder, or carry
metadata headers (pax, GNU long names) far larger than the archive itself, which `tarfile` would read
into memory whole. It is streamed to a file under a byte cap, then walked header by header with
bounded memory (`scan_archive`: metadata headers, member count and unpacked size capped, only regular
files and folders) before `tarfile` extracts it, with safe relative paths only.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

import requests
from github.Repository import Repository

from grader.github.client import translate_errors
from grader.github.errors import PermanentGitHubError, RetryLater

CHUNK_BYTES = 1 << 16
MAX_MEMBERS = 20_000
BLOCK = 512
HEADER_LIMIT = 64 * 1024  # a pax or GNU long-name header; real ones are a few hundred bytes
METADATA_TYPES = frozenset({b"x", b"g", b"L", b"K"})
FILE_TYPES = frozenset({b"0", b"\0", b"7"})
FOLDER_TYPE = b"5"


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


def _read(stream: io.BufferedIOBase, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise UnsafeArchiveError("the repository archive is truncated")
    return data


def _skip(stream: io.BufferedIOBase, size: int) -> None:
    while size > 0:
        size -= len(_read(stream, min(size, CHUNK_BYTES)))


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _member_size(header: bytes) -> int:
    """The size field: octal text, or GNU's base-256 for large values."""
    field = header[124:136]
    if field[0] & 0x80:
        return int.from_bytes(field[1:], "big")
    try:
        return int(field.split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        raise UnsafeArchiveError("the repository archive has a malformed header") from None


def _pax_size(records: bytes) -> int | None:
    """The `size` a pax header sets for the next member, if any."""
    for record in records.split(b"\n"):
        _, _, keyword = record.partition(b" ")
        key, _, value = keyword.partition(b"=")
        if key == b"size":
            try:
                return int(value)
            except ValueError:
                raise UnsafeArchiveError("the repository archive has a malformed pax header") from None
    return None


def _open_stream(archive: Path) -> io.BufferedIOBase:
    with archive.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(archive, "rb")
    return archive.open("rb")


def scan_archive(archive: Path, max_bytes: int) -> None:
    """Walk the tar stream's headers with bounded memory; raise UnsafeArchiveError on anything unsafe.

    What `safe_extract` then reads is known to hold at most MAX_MEMBERS members of regular files and
    folders, at most `max_bytes` unpacked, and no metadata header larger than HEADER_LIMIT.
    """
    try:
        with _open_stream(archive) as stream:
            _walk(stream, max_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnsafeArchiveError(f"the repository archive cannot be read: {type(exc).__name__}") from None


def _walk(stream: io.BufferedIOBase, max_bytes: int) -> None:
    total, members, next_size = 0, 0, None
    while (header := stream.read(BLOCK)) and header.strip(b"\0"):
        if len(header) != BLOCK:
            raise UnsafeArchiveError("the repository archive is truncated")
        kind, size = header[156:157], _member_size(header)
        if kind in METADATA_TYPES:
            if size > HEADER_LIMIT:
                raise UnsafeArchiveError(f"the archive has a metadata header of {size} bytes")
            records = _read(stream, _padded(size))[:size]
            next_size = _pax_size(records) if kind == b"x" else next_size
            continue
        members += 1
        if members > MAX_MEMBERS:
            raise UnsafeArchiveError(f"the archive has more than {MAX_MEMBERS} entries")
        if kind not in FILE_TYPES and kind != FOLDER_TYPE:
            name = header[:100].split(b"\0", 1)[0].decode("utf-8", "replace")
            raise UnsafeArchiveError(f"the archive holds a link or special file: {name[:200]!r}")
        size, next_size = (next_size if next_size is not None else size), None
        total += size if kind != FOLDER_TYPE else 0
        if total > max_bytes:
            raise UnsafeArchiveError(f"the unpacked repository is larger than {max_bytes} bytes")
        _skip(stream, _padded(size) if kind != FOLDER_TYPE else 0)


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
        scan_archive(archive, max_bytes)
        try:
            safe_extract(archive, dest, max_bytes)
        except tarfile.TarError as exc:
            raise UnsafeArchiveError(f"the repository archive cannot be read: {exc}") from exc
    return dest
