"""The archive sent into the container: regular files only, links and special files rejected."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from grader.runner.workspace import SubmissionRejected, pack
from tests.runner.submissions import make_submission


def _names(archive: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_pack__holds_config_submission_and_hidden_tests(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_x.py").write_text("def test_x(): pass\n")
    (hidden / "conftest.py").write_text("import pytest\n")
    members = _names(pack(checkout, {"a": 1}, hidden, 10**8))
    assert "submission/backend/app/database.py" in members
    assert "hidden/test_x.py" in members
    assert "plugin/grader_hidden_conftest.py" in members  # never discovered as a conftest
    assert "hidden/conftest.py" not in members
    assert all(member.isfile() or member.isdir() for member in members.values())


def test_pack__config_is_json(tmp_path: Path) -> None:
    archive = pack(make_submission("clean", tmp_path), {"steps": ["lint"]}, None, 10**8)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        handle = tar.extractfile("config.json")
        assert handle is not None
        assert json.loads(handle.read()) == {"steps": ["lint"]}


def test_pack__skips_git_and_caches(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / ".git").mkdir()
    (checkout / ".git" / "config").write_text("[core]\n")
    (checkout / "backend" / "__pycache__").mkdir()
    members = _names(pack(checkout, {}, None, 10**8))
    assert not any(".git" in name or "__pycache__" in name for name in members)


def test_pack__leaves_compiled_files_out_so_what_runs_is_what_was_linted(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / "backend" / "app" / "secret.pyc").write_bytes(b"\x00compiled")
    members = _names(pack(checkout, {}, None, 10**8))
    assert not any(name.endswith(".pyc") for name in members)


def test_pack__holds_the_probe_where_the_student_side_can_read_it(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("OPS = {}\n")
    members = _names(pack(make_submission("clean", tmp_path), {}, None, 10**8, probe))
    assert "probe/probe.py" in members


def test_pack__symlink_to_a_host_file_is_rejected_with_its_path(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / "backend" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(SubmissionRejected, match=r"symbolic link backend/passwd -> /etc/passwd rejected"):
        pack(checkout, {}, None, 10**8)


def test_pack__symlinked_folder_is_rejected(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / "etc").symlink_to("/etc", target_is_directory=True)
    with pytest.raises(SubmissionRejected, match="symbolic link etc"):
        pack(checkout, {}, None, 10**8)


def test_pack__fifo_is_rejected(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    os.mkfifo(checkout / "pipe")
    with pytest.raises(SubmissionRejected, match="pipe is not a regular file"):
        pack(checkout, {}, None, 10**8)


def test_pack__too_large_is_rejected(tmp_path: Path) -> None:
    checkout = make_submission("clean", tmp_path)
    (checkout / "big.bin").write_bytes(b"\0" * 2_000_000)
    with pytest.raises(SubmissionRejected, match="larger than 1 MB"):
        pack(checkout, {}, None, 2**20)
