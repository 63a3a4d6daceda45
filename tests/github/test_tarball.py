"""Fetching the code at a SHA through the tarball endpoint, and refusing archives that are not plain trees."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from grader.github.client import GitHubClient
from grader.github.errors import PermanentGitHubError
from grader.github.publisher import PublishTarget, fetch_checkout
from grader.github.tarball import UnsafeArchiveError
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
