"""Installing a plan with the real uv from a package index on disk (no network, no Docker): wheels only,
cached and read-only, nothing that replaces the image's modules, caps and failures with their reason."""

from __future__ import annotations

import asyncio
import compileall
import os
import time
from pathlib import Path

import pytest

from grader.grading.rubric import DependencyRules
from grader.runner.dependencies.install import DependencyCache, DependencyFailure, Installed, Installer
from grader.runner.dependencies.manifests import Declared
from grader.runner.dependencies.policy import ImageInfo, Plan, plan_for
from grader.settings import DependencySettings
from tests.support.wheels import write_index, write_sdist, write_wheel

IMAGE = ImageInfo(digest="sha256:test-image", python_version="3.11.2", platform="x86_64-manylinux_2_36",
                  distributions={"image-lib": "1.0"}, top_level=frozenset({"pytest", "_pytest", "image_lib", "os"}))
RULES = DependencyRules(policy="declared", deny=("forbidden-*",), max_packages=10, max_mb=5, max_seconds=120)


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("index")
    write_wheel(folder, "tiny-helper", "1.0", {"tiny_helper/__init__.py": "from tiny_dep import X\nVALUE = X + 1\n"},
                requires=["tiny-dep>=1"])
    write_wheel(folder, "tiny-dep", "1.2", {"tiny_dep.py": "X = 41\n"})
    write_wheel(folder, "tiny-dep", "1.0", {"tiny_dep.py": "X = 0\n"})
    write_wheel(folder, "image-lib", "1.0", {"image_lib.py": "IMAGE = True\n"})
    write_wheel(folder, "uses-image-lib", "2.0", {"uses_image_lib.py": "import image_lib\n"}, requires=["image-lib"])
    write_wheel(folder, "shadow-pytest", "0.1", {
        "pytest/__init__.py": "raise SystemExit('a package replaced pytest')\n", "_pytest/__init__.py": "",
        "sitecustomize.py": "print('runs at start-up')\n", "shadow_helper.py": "HELPER = 'kept'\n",
        "evil.pth": "import os; os.system('true')\n"})
    write_wheel(folder, "pulls-forbidden", "1.0", {"pulls_forbidden.py": ""}, requires=["forbidden-thing"])
    write_wheel(folder, "forbidden-thing", "1.0", {"forbidden_thing.py": ""})
    write_wheel(folder, "big-data", "1.0", {"big_data/blob.py": "DATA = '" + "x" * 6 * 2**20 + "'\n"})
    for number in range(12):
        write_wheel(folder, f"many-{number}", "1.0", {f"many_{number}.py": ""})
    write_sdist(folder, "source-only", "0.1")
    return write_index(folder)


class Compiler:
    """Byte-compiles with this interpreter (the image's, in production) and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    async def __call__(self, folder: Path) -> None:
        self.calls.append(folder)
        await asyncio.to_thread(compileall.compile_dir, str(folder), quiet=1)


def _installer(tmp_path: Path, index_url: str, cache_mb: int = 100) -> tuple[Installer, Compiler]:
    settings = DependencySettings(index_url=index_url, cache_dir=tmp_path / "cache", cache_mb=cache_mb)
    compiler = Compiler()
    return Installer(settings, DependencyCache(settings, keep_seconds=0), compiler), compiler


def _plan(*requirements: str, pins: tuple[str, ...] = ()) -> Plan:
    return plan_for(Declared(requirements=requirements, pins=pins), RULES, IMAGE)


def _ensure(installer: Installer, plan: Plan, rules: DependencyRules = RULES) -> Installed:
    return asyncio.run(installer.ensure(plan, IMAGE, rules))


def test_install__wheels_with_their_dependencies_then_from_the_cache(tmp_path: Path, index_url: str) -> None:
    installer, compiler = _installer(tmp_path, index_url)

    first = _ensure(installer, _plan("tiny-helper"))
    second = _ensure(installer, _plan("tiny-helper"))

    assert first.packages == ("tiny-dep==1.2", "tiny-helper==1.0")
    assert (first.cached, second.cached) == (False, True)
    assert first.path == second.path
    assert (first.path / "tiny_helper" / "__init__.py").is_file()
    assert list((first.path / "tiny_helper" / "__pycache__").glob("*.pyc"))
    assert len(compiler.calls) == 1


def test_install__the_entry_is_read_only(tmp_path: Path, index_url: str) -> None:
    installed = _ensure(_installer(tmp_path, index_url)[0], _plan("tiny-helper"))

    assert not os.access(installed.path / "tiny_dep.py", os.W_OK) or os.geteuid() == 0
    assert (installed.path / "tiny_dep.py").stat().st_mode & 0o222 == 0
    assert installed.path.stat().st_mode & 0o222 == 0


def test_install__lock_pins_hold_where_they_can_and_are_dropped_where_they_cannot(tmp_path: Path,
                                                                                   index_url: str) -> None:
    installer, _ = _installer(tmp_path, index_url)

    locked = _ensure(installer, _plan("tiny-helper", pins=("tiny-dep==1.0",)))
    unlockable = _ensure(installer, _plan("tiny-helper", pins=("tiny-dep==0.5",)))  # a lock made elsewhere

    assert locked.packages == ("tiny-dep==1.0", "tiny-helper==1.0")
    assert unlockable.packages == ("tiny-dep==1.2", "tiny-helper==1.0")


def test_install__what_the_image_has_is_not_installed_again(tmp_path: Path, index_url: str) -> None:
    installed = _ensure(_installer(tmp_path, index_url)[0], _plan("uses-image-lib"))

    assert installed.packages == ("uses-image-lib==2.0",)
    assert not (installed.path / "image_lib.py").exists()


def test_install__a_package_cannot_replace_pytest_or_run_at_start_up(tmp_path: Path, index_url: str) -> None:
    installed = _ensure(_installer(tmp_path, index_url)[0], _plan("shadow-pytest"))

    assert installed.removed == ("_pytest", "pytest", "sitecustomize")
    names = {path.name for path in installed.path.iterdir()}
    assert {"pytest", "_pytest", "sitecustomize.py", "evil.pth", "bin"}.isdisjoint(names)
    assert "shadow_helper.py" in names


def test_install__a_requirement_without_a_wheel_is_left_out_and_named(tmp_path: Path, index_url: str) -> None:
    installed = _ensure(_installer(tmp_path, index_url)[0], _plan("source-only", "tiny-dep"))

    assert installed.packages == ("tiny-dep==1.2",)
    assert installed.left_out == (("no_wheel", "source-only"),)


def test_install__an_unknown_name_is_left_out_and_named(tmp_path: Path, index_url: str) -> None:
    installed = _ensure(_installer(tmp_path, index_url)[0], _plan("no-such-project-here", "tiny-dep"))
    assert installed.left_out == (("not_found", "no-such-project-here"),)


@pytest.mark.parametrize(("requirements", "kind", "detail"), [
    (("pulls-forbidden",), "denied", "forbidden-thing"),
    ((*(f"many-{number}" for number in range(12)),), "over_count", "12 > 10"),
    (("big-data",), "over_size", " > 5"),
])
def test_install__refused_sets_fail_with_the_reason_and_leave_nothing(tmp_path: Path, index_url: str,
                                                                       requirements: tuple[str, ...], kind: str,
                                                                       detail: str) -> None:
    installer, _ = _installer(tmp_path, index_url)

    with pytest.raises(DependencyFailure) as failure:
        _ensure(installer, _plan(*requirements))

    assert failure.value.kind == kind
    assert detail in failure.value.detail
    assert list((tmp_path / "cache" / "entries").iterdir()) == []
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_install__concurrent_builds_of_one_set_share_one_folder(tmp_path: Path, index_url: str) -> None:
    installer, compiler = _installer(tmp_path, index_url)

    async def both() -> list[Installed]:
        return list(await asyncio.gather(installer.ensure(_plan("tiny-helper"), IMAGE, RULES),
                                         installer.ensure(_plan("tiny-helper"), IMAGE, RULES)))

    first, second = asyncio.run(both())

    assert first.path == second.path
    assert len(compiler.calls) == 1


def test_cache__least_recently_used_entries_go_above_the_cap(tmp_path: Path, index_url: str) -> None:
    installer, _ = _installer(tmp_path, index_url, cache_mb=1)
    old = _ensure(installer, _plan("tiny-dep"))
    os.utime(old.path.parent, (time.time() - 3600, time.time() - 3600))
    installer.cache.limit_bytes = 1  # anything is over it now; the entry just built was used just now
    installer.cache.keep_seconds = 60

    newer = _ensure(installer, _plan("tiny-helper"))

    assert not old.path.exists()
    assert newer.path.exists()


def test_install__over_its_time_the_build_stops(tmp_path: Path, index_url: str) -> None:
    installer, _ = _installer(tmp_path, index_url)

    async def slow(folder: Path) -> None:
        await asyncio.sleep(30)

    installer.compile_bytecode = slow
    started = time.monotonic()
    with pytest.raises(DependencyFailure) as failure:
        _ensure(installer, _plan("tiny-helper"), DependencyRules(policy="declared", max_seconds=2))

    assert failure.value.kind == "over_time"
    assert time.monotonic() - started < 20
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
