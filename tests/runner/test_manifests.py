"""Reading what a submission declares: every manifest kind, every encoding, nothing outside the checkout."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from grader.runner.dependencies.manifests import (
    MANIFEST_LIMIT_BYTES,
    ManifestError,
    decode_text,
    find_declared,
    is_requirements_file,
    poetry_requirement,
    poetry_specifier,
    read_manifest,
    requirement_lines,
)

UV_LOCK = """version = 1
requires-python = ">=3.12"

[[package]]
name = "lesson-app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "tiny-helper" }]

[package.metadata]
requires-dist = [{ name = "tiny-helper", extras = ["fast"], specifier = ">=1.0" }]

[package.metadata.requires-dev]
dev = [{ name = "tiny-testing", specifier = ">=2" }]
docs = [{ name = "tiny-docs" }]

[[package]]
name = "tiny-helper"
version = "1.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tiny-testing"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "from-git"
version = "0.3.0"
source = { git = "https://example.org/from-git.git?rev=main" }

[[package]]
name = "forked"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "forked"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
"""

POETRY_LOCK = """[[package]]
name = "pydantic-settings"
version = "2.1.0"
optional = false
python-versions = ">=3.8"

[[package]]
name = "private-thing"
version = "0.4.0"
optional = false

[package.source]
type = "git"
url = "https://example.org/private-thing.git"
"""

POETRY_PYPROJECT = """[tool.poetry]
name = "lesson-app"

[tool.poetry.dependencies]
python = "^3.11"
pydantic-settings = "^2.1"
fastapi = { version = "^0.110.0", extras = ["standard"] }
private-thing = { git = "https://example.org/private-thing.git" }
uvicorn = { version = "~0.24", markers = "sys_platform == 'linux'" }

[tool.poetry.group.dev.dependencies]
fakeredis = "^2.20"

[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""


def write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_requirements__utf16_with_a_bom_and_crlf_is_read(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", codecs.BOM_UTF16_LE + "python-dotenv==1.1.0\r\nuvicorn==0.34.3\r\n".encode(
        "utf-16-le"))

    declared = find_declared(tmp_path)

    assert declared.source == "requirements.txt"
    assert declared.requirements == ("python-dotenv==1.1.0", "uvicorn==0.34.3")


@pytest.mark.parametrize(("data", "text"), [
    (codecs.BOM_UTF8 + b"a==1\n", "a==1\n"),
    (codecs.BOM_UTF16_BE + "a==1\n".encode("utf-16-be"), "a==1\n"),
    (codecs.BOM_UTF32_LE + "a==1\n".encode("utf-32-le"), "a==1\n"),
    ("a==1\nb==2\n".encode("utf-16-le"), "a==1\nb==2\n"),  # no BOM: recognised by its zero bytes
    (b"caf\xe9==1\n", "caf\ufffd==1\n"),
])
def test_decode_text__any_bom_and_utf16_without_one(data: bytes, text: str) -> None:
    assert decode_text(data) == text


def test_requirement_lines__continuations_comments_and_blank_lines() -> None:
    text = "# pinned\nfastapi==0.110.0 \\\n    --hash=sha256:abc  # web\n\n  alembic  \nurl#frag==1\n"
    assert requirement_lines(text) == ["fastapi==0.110.0      --hash=sha256:abc", "alembic", "url#frag==1"]


def test_requirements__includes_and_constraints_followed_inside_the_repository_only(tmp_path: Path) -> None:
    write(tmp_path, "requirements-dev.txt", "-r requirements.txt\n-c constraints/pins.txt\npytest-env\n"
                                            "-r ../../etc/requirements.txt\n")
    write(tmp_path, "requirements.txt", "-r requirements-dev.txt\nfastapi\n")  # a cycle is read once
    write(tmp_path, "constraints/pins.txt", "fastapi==0.110.0\n")

    declared = find_declared(tmp_path)

    assert declared.source == "requirements-dev.txt + requirements.txt + constraints/pins.txt"
    assert declared.requirements == ("fastapi", "pytest-env")
    assert declared.pins == ("fastapi==0.110.0",)
    assert declared.problems == (("outside", "requirements-dev.txt: ../../etc/requirements.txt"),)


@pytest.mark.parametrize(("relative", "wanted"), [
    ("requirements.txt", True), ("backend/requirements-dev.txt", True), ("requirements/test_requirements.txt", True),
    ("requirements/base.txt", True), ("requirements-docs.txt", False), ("notes.txt", False),
    ("requirements.in", False),
])
def test_is_requirements_file(relative: str, wanted: bool) -> None:
    assert is_requirements_file(relative) is wanted


def test_uv_lock__pins_from_the_lock_requirements_from_its_pyproject(tmp_path: Path) -> None:
    write(tmp_path, "uv.lock", UV_LOCK)
    write(tmp_path, "pyproject.toml", '[project]\nname = "lesson-app"\ndependencies = ["tiny-helper>=1"]\n'
                                      '[dependency-groups]\ndev = ["tiny-testing"]\n')
    write(tmp_path, "requirements.txt", "ignored==1\n")

    declared = find_declared(tmp_path)

    assert declared.source == "uv.lock + pyproject.toml"
    assert declared.requirements == ("tiny-helper>=1", "tiny-testing")
    # git sources are never pinned, nor a name locked at two versions (one per Python)
    assert declared.pins == ("tiny-helper==1.0.0", "tiny-testing==2.1.0")
    assert "lesson-app" in declared.project_names


def test_uv_lock__without_its_pyproject_uses_the_locks_own_metadata(tmp_path: Path) -> None:
    write(tmp_path, "uv.lock", UV_LOCK)

    declared = find_declared(tmp_path)

    assert declared.requirements == ("tiny-helper[fast]>=1.0", "tiny-testing>=2")


def test_poetry_lock__requirements_from_pyproject_with_poetry_constraints(tmp_path: Path) -> None:
    write(tmp_path, "poetry.lock", POETRY_LOCK)
    write(tmp_path, "pyproject.toml", POETRY_PYPROJECT)

    declared = find_declared(tmp_path)

    assert declared.source == "poetry.lock + pyproject.toml"
    assert declared.requirements == ("pydantic-settings>=2.1,<3.0", "fastapi[standard]>=0.110.0,<0.111.0",
                                     "uvicorn>=0.24,<0.25 ; sys_platform == 'linux'", "fakeredis>=2.20,<3.0")
    assert declared.pins == ("pydantic-settings==2.1.0",)


def test_pylock__every_package_with_its_marker(tmp_path: Path) -> None:
    write(tmp_path, "pylock.toml", 'lock-version = "1.0"\n[[packages]]\nname = "tiny-helper"\nversion = "1.0"\n'
                                   '[[packages]]\nname = "win-only"\nversion = "2"\n'
                                   'marker = "sys_platform == \'win32\'"\n'
                                   '[[packages]]\nname = "local"\ndirectory = { path = "." }\n')

    assert find_declared(tmp_path).requirements == ("tiny-helper==1.0", "win-only==2 ; sys_platform == 'win32'")


def test_pyproject_only__pep621_optional_groups_and_dependency_groups(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", """
[project]
name = "lesson-app"
dependencies = ["fastapi>=0.110", "pydantic-settings"]
[project.optional-dependencies]
dev = ["pytest-cov"]
docs = ["sphinx"]
[dependency-groups]
test = ["fakeredis", { include-group = "typing" }]
typing = ["types-redis"]
lint = ["black"]
""")

    declared = find_declared(tmp_path)

    assert declared.source == "pyproject.toml"
    assert declared.requirements == ("fastapi>=0.110", "pydantic-settings", "pytest-cov", "fakeredis", "types-redis")
    assert declared.project_names == ("lesson-app",)


def test_order__the_first_kind_wins_and_the_rubric_folders_are_searched(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\ndependencies = ["from-root-pyproject"]\n')
    write(tmp_path, "backend/requirements.txt", "from-backend-requirements\n")

    assert find_declared(tmp_path, ["backend"]).requirements == ("from-backend-requirements",)
    assert find_declared(tmp_path, []).requirements == ("from-root-pyproject",)


def test_nested_project__found_when_the_root_and_the_rubric_folders_have_none(tmp_path: Path) -> None:
    write(tmp_path, "src/server/requirements.txt", "asgi-lifespan==1.0.1\n")
    write(tmp_path, "docs/requirements.txt", "sphinx\n")

    declared = find_declared(tmp_path, ["backend"])

    assert declared.source == "src/server/requirements.txt"
    assert declared.requirements == ("asgi-lifespan==1.0.1",)


def test_no_manifest__nothing_declared(tmp_path: Path) -> None:
    write(tmp_path, "app/main.py", "print('hi')\n")
    assert find_declared(tmp_path).requirements == ()
    assert find_declared(tmp_path).source == ""


def test_a_linked_manifest_is_a_problem_and_never_followed(tmp_path: Path) -> None:
    secret = write(tmp_path / "outside", "secret.txt", "token==1\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "requirements.txt").symlink_to(secret)
    (tmp_path / "repo" / "backend").symlink_to(tmp_path / "outside")

    assert find_declared(tmp_path / "repo", ["backend"]).requirements == ()
    for relative in ("requirements.txt", "backend/secret.txt"):
        with pytest.raises(ManifestError) as raised:
            read_manifest(tmp_path / "repo", relative)
        assert raised.value.problem == ("link", relative)


def test_an_oversized_or_broken_manifest_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "requirements.txt", b"a" * (MANIFEST_LIMIT_BYTES + 1))
    assert find_declared(tmp_path).problems == (("too_large", "requirements.txt"),)
    write(tmp_path / "toml", "pyproject.toml", "[project\n")
    assert find_declared(tmp_path / "toml").problems == (("not_toml", "pyproject.toml"),)


@pytest.mark.parametrize(("spec", "specifier"), [
    ("^1.2.3", ">=1.2.3,<2.0.0"), ("^0.2.3", ">=0.2.3,<0.3.0"), ("^0.0.3", ">=0.0.3,<0.0.4"), ("^0", ">=0,<1"),
    ("^0.0", ">=0.0,<0.1"), ("^2", ">=2,<3"), ("~1.2.3", ">=1.2.3,<1.3"), ("~1", ">=1,<2"), ("~=1.4", "~=1.4"),
    ("1.2.3", "==1.2.3"), ("*", ""), (">=1.0, <2.0", ">=1.0,<2.0"), ("^1.0 || ^2.0", ""), ("1.2.*", "==1.2.*"),
])
def test_poetry_specifier(spec: str, specifier: str) -> None:
    assert poetry_specifier(spec) == specifier


@pytest.mark.parametrize(("spec", "line"), [
    ({"version": "^1.0", "extras": ["asyncio"]}, "pkg[asyncio]>=1.0,<2.0"),
    ({"path": "../lib"}, None),
    ({"url": "https://example.org/x.whl"}, None),
    ([{"version": "^1.0", "python": "<3.12"}, {"version": "^2.0", "python": ">=3.12"}], "pkg>=1.0,<2.0"),
    (42, None),
])
def test_poetry_requirement(spec: object, line: str | None) -> None:
    assert poetry_requirement("pkg", spec) == line


def test_a_manifest_nested_deep_enough_to_exhaust_the_stack_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert find_declared(tmp_path).problems == (("not_toml", "pyproject.toml"),)
