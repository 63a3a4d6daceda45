"""Fetching the code at a SHA through the tarball endpoint, and refusing archives that are not plain trees."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
import zlib
from pathlib import Path

import pytest

from grader.github.client import GitHubClient
from grader.github.errors import PermanentGitHubError
from grader.github.publisher import PublishTarget, fetch_checkout
from grader.github.tarball import UnsafeArchiveError, scan_archive
from tests.fakegithub.server import FakeGitHub
from tests.github.conftest import REPO

SHA = "a" * 40
AT_SHA = PublishTarget(repo=REPO, pr_number=1, head_sha=SHA)
UNKNOWN_SHA = PublishTarget(repo=REPO, pr_number=1, head_sha="b" * 40)
TOP = "octo-org-hello-world-aaaaaaa"


def _tarball(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.addfile(_dir(TOP))
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


async def test_fetch_checkout__unpacks_the_tree_without_githubs_top_folder(
        client: GitHubClient, fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.tarballs[(REPO, SHA)] = _tarball({f"{TOP}/backend/app/database.py": b"engine = 1\n",
                                                  f"{TOP}/README.md": b"hi"})

    dest = await fetch_checkout(client, AT_SHA, tmp_path / "checkout", max_bytes=10_000)

    assert (dest / "backend/app/database.py").read_text() == "engine = 1\n"
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "backend"]


@pytest.mark.parametrize(("entries", "links", "reason"), [
    ({f"{TOP}/../escape.py": b"x"}, None, "outside its folder"),
    ({}, {f"{TOP}/link": "/etc/passwd"}, "link"),
    ({f"{TOP}/big.bin": b"0" * 5000}, None, "larger than"),
])
async def test_fetch_checkout__refuses_unsafe_archives(
        client: GitHubClient, fake_github: FakeGitHub, tmp_path: Path, entries: dict[str, bytes],
        links: dict[str, str] | None, reason: str) -> None:
    fake_github.tarballs[(REPO, SHA)] = _tarball(entries, links)

    with pytest.raises(UnsafeArchiveError, match=reason):
        await fetch_checkout(client, AT_SHA, tmp_path / "checkout", max_bytes=4000)

    assert not (tmp_path / "escape.py").exists()


async def test_fetch_checkout__stops_downloading_past_the_cap(
        client: GitHubClient, fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.tarballs[(REPO, SHA)] = _tarball({f"{TOP}/noise.bin": os.urandom(50_000)})

    with pytest.raises(UnsafeArchiveError, match="archive is larger than 1000 bytes"):
        await fetch_checkout(client, AT_SHA, tmp_path / "checkout", max_bytes=1000)


async def test_fetch_checkout__an_unknown_sha_is_permanent(
        client: GitHubClient, fake_github: FakeGitHub, tmp_path: Path) -> None:
    with pytest.raises(PermanentGitHubError) as raised:
        await fetch_checkout(client, UNKNOWN_SHA, tmp_path / "checkout", max_bytes=1000)

    assert raised.value.status == 404


async def test_fetch_checkout__round_trips_a_folder_served_by_the_fake(
        client: GitHubClient, fake_github: FakeGitHub, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "backend" / "app").mkdir(parents=True)
    (source / "backend" / "app" / "models.py").write_text("class Item: ...\n")
    fake_github.add_tarball(REPO, SHA, source)

    dest = await fetch_checkout(client, AT_SHA, tmp_path / "checkout", max_bytes=10_000)

    assert (dest / "backend" / "app" / "models.py").read_text() == "class Item: ...\n"


def _header(name: bytes, kind: bytes, size: int) -> bytes:
    """A ustar header block with a correct checksum, for archives tarfile would refuse to write."""
    block = bytearray(512)
    block[:len(name)] = name
    block[100:108] = b"0000644\0"
    block[124:136] = f"{size:011o}\0".encode() if size < 8**11 else b"\x80" + size.to_bytes(11, "big")
    block[156:157] = kind
    block[257:263] = b"ustar\0"
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def _gzip_stream(*parts: bytes, zeros: int = 0) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [compressor.compress(part) for part in parts]
    chunk = b"\0" * (1 << 20)
    for _ in range(zeros // len(chunk)):
        out.append(compressor.compress(chunk))
    out.append(compressor.flush())
    return b"".join(out)


def test_scan_archive__a_huge_pax_header_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(_gzip_stream(_header(b"pax", b"x", 64 << 20), zeros=64 << 20))
    assert archive.stat().st_size < 1 << 20

    tracemalloc.start()
    with pytest.raises(UnsafeArchiveError, match="metadata header of 67108864 bytes"):
        scan_archive(archive, max_bytes=50 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert peak < 2 << 20


@pytest.mark.parametrize(("parts", "reason"), [
    ((_header(b"L", b"L", 1 << 30),), "metadata header of 1073741824 bytes"),
    ((_header(b"top/f", b"0", 1 << 40),), "unpacked repository is larger"),
    ((_header(b"top/dev", b"3", 0),), "link or special file: 'top/dev'"),
    ((_header(b"top/f", b"0", 100), b"short"), "truncated"),
    ((b"\x01" * 512,), "malformed header"),
])
def test_scan_archive__refuses_what_tarfile_should_never_read(tmp_path: Path, parts: tuple[bytes, ...],
                                                              reason: str) -> None:
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(_gzip_stream(*parts))

    with pytest.raises(UnsafeArchiveError, match=reason):
        scan_archive(archive, max_bytes=50 << 20)


def test_scan_archive__too_many_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grader.github.tarball.MAX_MEMBERS", 3)
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(_tarball({f"{TOP}/{index}.py": b"x" for index in range(5)}))

    with pytest.raises(UnsafeArchiveError, match="more than 3 entries"):
        scan_archive(archive, max_bytes=10_000)


def test_scan_archive__a_pax_size_counts_for_the_next_member(tmp_path: Path) -> None:
    record = b"18 size=100000000\n"
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(_gzip_stream(_header(b"pax", b"x", len(record)), record.ljust(512, b"\0"),
                                     _header(b"top/f", b"0", 0)))

    with pytest.raises(UnsafeArchiveError, match="unpacked repository is larger"):
        scan_archive(archive, max_bytes=50 << 20)


def test_scan_archive__a_plain_tree_passes(tmp_path: Path) -> None:
    archive = tmp_path / "repo.tar.gz"
    archive.write_bytes(_tarball({f"{TOP}/backend/app/x.py": b"x = 1\n"}))

    scan_archive(archive, max_bytes=10_000)
