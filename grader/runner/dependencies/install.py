"""Install a plan's wheels into a cached folder the sandbox mounts read-only.

`uv pip compile` resolves the plan for the runner image's Python and platform, constrained to the
image's own versions; `uv pip install --target --no-deps --only-binary :all:` unpacks exactly that
set. No source distribution is ever built, so nothing of the student's (or of a package's setup
script) runs here. The folder is built under `tmp/`, cleaned of anything that would replace the
image's modules or run at interpreter start-up, byte-compiled for the image's Python, made
read-only and renamed into `entries/<key>` in one step; concurrent builds of one key wait on a lock
and share the result. Entries are evicted least-recently-used above the size cap, never one used
within the last run's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import os
import re
import shutil
import stat
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

from grader.grading.report import InfrastructureError
from grader.grading.rubric import DependencyRules
from grader.runner.dependencies.policy import (
    ImageInfo,
    Plan,
    cache_key,
    normalize_name,
    parse_resolution,
    shadowing,
    split_resolved,
)
from grader.settings import DependencySettings

SITE = "site"  # the folder of an entry that is mounted
META = "meta.json"
STALE_TMP_SECONDS = 24 * 3600
MAX_LEFT_OUT = 5  # declared requirements without a wheel (or not on the index) left out before giving up
NETWORK_ERRORS = ("Failed to fetch", "error sending request", "tcp connect error", "dns error", "Connection refused",
                  "timed out", "certificate", "Could not connect", "Request failed after")
BytecodeCompiler = Callable[[Path], Awaitable[None]]


@dataclass(frozen=True)
class Installed:
    path: Path  # the folder to mount
    packages: tuple[str, ...]  # "name==version", sorted
    size_bytes: int
    cached: bool
    removed: tuple[str, ...] = ()  # top-level names taken out: they would replace the image's
    left_out: tuple[tuple[str, str], ...] = ()  # (kind, name) of declared requirements that could not be had


class DependencyFailure(Exception):
    """The set cannot be installed for a reason the student can act on."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # "no_wheel" | "not_found" | "conflict" | "over_count" | "over_size" | "over_time" | "denied"
        self.detail = detail


def explain_uv_error(stderr: str) -> DependencyFailure | InfrastructureError:
    """uv's error as a student-facing reason, or an infrastructure failure when the index is unreachable."""
    text = " ".join(stderr.split())
    if any(marker in text for marker in NETWORK_ERRORS) and "not found in the package registry" not in text:
        return InfrastructureError("the package index could not be reached: " + _last_error_line(stderr))
    missing = re.search(r"Because ([\w.\-\[\]]+)(?: was not found in the package registry)", text)
    if missing:
        return DependencyFailure("not_found", missing.group(1))
    wheel = (re.search(r"Wheels are required for `([^`]+)`", text)
             or re.search(r"Because (?:only )?([\w.\-]+(?:[=<>!~]=?[\w.*+!-]+)?) has no (?:usable )?wheels", text)
             or re.search(r"([\w.\-]+(?:==[\w.*+!-]+)?) has no wheels", text))
    if wheel:
        return DependencyFailure("no_wheel", wheel.group(1))
    cause = re.search(r"Because (.+?)(?:, we can conclude that|$)", text)
    if "No solution found" in text:
        return DependencyFailure("conflict", (cause.group(1) if cause else _last_error_line(stderr))[:300])
    return DependencyFailure("error", _last_error_line(stderr)[:300])


def without_requirement(requirements: list[str], failure: DependencyFailure) -> list[str] | None:
    """The requirements without the declared one a failure names (no wheel, not found); None when the
    failure names none of them (a conflict, or a dependency of a dependency)."""
    if failure.kind not in ("no_wheel", "not_found"):
        return None
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", failure.detail)
    name = normalize_name(found.group(0)) if found else ""
    kept = [line for line in requirements if _requirement_name(line) != name]
    return kept if len(kept) < len(requirements) else None


def _requirement_name(line: str) -> str:
    found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return normalize_name(found.group(0)) if found else ""


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.strip().startswith("hint:")]
    return lines[-1] if lines else "no output"


class DependencyCache:
    """`entries/<key>/site` (read-only, mounted), `tmp/` (builds), `locks/`, `uv/` (uv's own download
    cache) and `images/` (what each runner image provides), under one folder."""

    def __init__(self, settings: DependencySettings, keep_seconds: float) -> None:
        self.root = settings.cache_dir
        self.limit_bytes = settings.cache_mb * 2**20
        self.keep_seconds = keep_seconds  # an entry used this recently may still be mounted
        for name in ("entries", "tmp", "locks", "uv", "images"):
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def entry(self, key: str) -> Path:
        return self.root / "entries" / key

    def lookup(self, key: str) -> Installed | None:
        folder = self.entry(key)
        try:
            meta = json.loads((folder / META).read_text())
            os.utime(folder)  # the entry's mtime is its last use
        except (OSError, ValueError):
            return None
        return Installed(path=folder / SITE, packages=tuple(meta["packages"]), size_bytes=int(meta["size_bytes"]),
                         cached=True, removed=tuple(meta.get("removed", [])),
                         left_out=tuple((str(kind), str(name)) for kind, name in meta.get("left_out", [])))

    def new_build(self) -> Path:
        folder = self.root / "tmp" / f"build-{uuid.uuid4().hex}"
        folder.mkdir()
        return folder

    def publish(self, key: str, build: Path, installed: Installed) -> Installed:
        """Make the build read-only and move it into place atomically; a concurrent twin wins."""
        meta = {"packages": list(installed.packages), "size_bytes": installed.size_bytes,
                "removed": list(installed.removed), "left_out": [list(item) for item in installed.left_out],
                "created": time.time()}
        (build / META).write_text(json.dumps(meta))
        _read_only(build)
        try:
            build.rename(self.entry(key))
        except OSError:
            remove_tree(build)
        found = self.lookup(key)
        if found is None:
            raise InfrastructureError(f"the dependency cache entry {key} could not be stored")
        return dataclasses.replace(found, cached=False)

    @contextlib.asynccontextmanager
    async def locked(self, key: str, timeout: float) -> AsyncIterator[None]:  # noqa: ASYNC109
        """One build per key across workers and processes of this machine."""
        fd = os.open(self.root / "locks" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DependencyFailure("over_time", f"{timeout:.0f}") from None
                    await asyncio.sleep(0.2)
            yield
        finally:
            os.close(fd)

    def image_info(self, digest: str) -> dict[str, object] | None:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((self.root / "images" / f"{_safe(digest)}.json").read_text())
            return data if isinstance(data, dict) else None
        return None

    def save_image_info(self, digest: str, data: Mapping[str, object]) -> None:
        target = self.root / "images" / f"{_safe(digest)}.json"
        temporary = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
        temporary.write_text(json.dumps(data))
        temporary.replace(target)

    def evict(self) -> list[str]:
        """Least-recently-used entries go until the cache fits its cap; recent ones stay."""
        entries = []
        for folder in (self.root / "entries").iterdir():
            with contextlib.suppress(OSError, ValueError):
                size = int(json.loads((folder / META).read_text())["size_bytes"])
                entries.append((folder.stat().st_mtime, size, folder))
        total = sum(size for _, size, _ in entries) + tree_size(self.root / "uv")
        removed = []
        for used, size, folder in sorted(entries):
            if total <= self.limit_bytes or time.time() - used < self.keep_seconds:
                break
            remove_tree(folder)
            total -= size
            removed.append(folder.name)
        if total > self.limit_bytes and tree_size(self.root / "uv") > self.limit_bytes // 2:
            remove_tree(self.root / "uv")
            (self.root / "uv").mkdir(exist_ok=True)
        self._clean_tmp()
        return removed

    def _clean_tmp(self) -> None:
        for folder in (self.root / "tmp").iterdir():
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > STALE_TMP_SECONDS:
                    remove_tree(folder)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def tree_size(folder: Path) -> int:
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size  # noqa: PTH118
    return total


def _read_only(folder: Path) -> None:
    for base, folders, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)  # noqa: PTH118
            if not os.path.islink(path):  # noqa: PTH114
                os.chmod(path, 0o444)  # noqa: PTH101
        for name in folders:
            os.chmod(os.path.join(base, name), 0o555)  # noqa: PTH101, PTH118, S103 - read by the sandbox users
    os.chmod(folder, 0o555)  # noqa: PTH101, S103


def remove_tree(folder: Path) -> None:
    """Remove a (possibly read-only) tree: moved aside first, so it vanishes from its place at once."""
    if not folder.exists():
        return
    doomed = folder.with_name(f".removing-{uuid.uuid4().hex}")
    try:
        folder.rename(doomed)
    except OSError:
        doomed = folder
    for base, folders, _ in os.walk(doomed):
        os.chmod(base, stat.S_IRWXU)  # noqa: PTH101
        for name in folders:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(base, name), stat.S_IRWXU)  # noqa: PTH101, PTH118
    shutil.rmtree(doomed, ignore_errors=True)


class Installer:
    """Resolves and installs plans with uv; one per worker process is enough."""

    def __init__(self, settings: DependencySettings, cache: DependencyCache, compile_bytecode: BytecodeCompiler,
                 uv: str | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.compile_bytecode = compile_bytecode
        self.uv = uv or _find_uv()

    async def ensure(self, plan: Plan, image: ImageInfo, rules: DependencyRules) -> Installed:
        """The installed folder of `plan`, from the cache or built now (raises `DependencyFailure`)."""
        key = cache_key(plan, image, rules, self.settings.index_url)
        found = self.cache.lookup(key)
        if found is not None:
            return found
        try:
            async with asyncio.timeout(rules.max_seconds), self.cache.locked(key, rules.max_seconds):
                return self.cache.lookup(key) or await self._build(key, plan, image, rules)
        except TimeoutError:
            raise DependencyFailure("over_time", f"{rules.max_seconds}") from None

    async def _build(self, key: str, plan: Plan, image: ImageInfo, rules: DependencyRules) -> Installed:
        build = self.cache.new_build()
        try:
            pins, left_out = await self._resolve(build, plan, image)
            resolved = split_resolved(pins, rules, image)
            if resolved.denied:
                raise DependencyFailure("denied", ", ".join(resolved.denied))
            if len(resolved.install) > rules.max_packages:
                raise DependencyFailure("over_count", f"{len(resolved.install)} > {rules.max_packages}")
            installed = await self._install(build, resolved.install, image, rules)
            installed = dataclasses.replace(installed, left_out=tuple(left_out))
            published = self.cache.publish(key, build, installed)
        except BaseException:
            remove_tree(build)
            raise
        self.cache.evict()
        return published

    async def _resolve(self, build: Path, plan: Plan, image: ImageInfo) -> tuple[list[tuple[str, str]],
                                                                                   list[tuple[str, str]]]:
        """The full set for the image's Python and platform, and the declared requirements left out.

        Lock pins are tried first, then dropped when they cannot hold on this Python (a lock made for
        3.13). A declared requirement that has no wheel or is not on the index is left out (and
        reported), so one sdist-only test helper does not cost the student everything else.
        """
        (build / "image.txt").write_text("\n".join(plan.image_pins(image)) + "\n")
        (build / "locked.txt").write_text("\n".join(plan.constraints) + "\n")
        requirements, left_out = list(plan.requirements), list[tuple[str, str]]()
        use_pins = bool(plan.constraints)
        while True:
            try:
                return parse_resolution(await self._compile(build, requirements, image, use_pins)), left_out
            except DependencyFailure as failure:
                if use_pins:
                    use_pins = False
                    continue
                remaining = without_requirement(requirements, failure)
                if remaining is None or len(left_out) >= MAX_LEFT_OUT:
                    raise
                requirements = remaining
                left_out.append((failure.kind, failure.detail))

    async def _compile(self, build: Path, requirements: list[str], image: ImageInfo, use_pins: bool) -> str:
        (build / "requirements.in").write_text("\n".join(requirements) + "\n")
        args = ["pip", "compile", "requirements.in", "--constraint", "image.txt", "--no-header", "--no-annotate",
                "--quiet", *self._target(image)]
        return await self._uv([*args, "--constraint", "locked.txt"] if use_pins else args, build)

    async def _install(self, build: Path, pins: tuple[tuple[str, str], ...], image: ImageInfo,
                       rules: DependencyRules) -> Installed:
        site = build / SITE
        site.mkdir()
        if pins:
            (build / "resolved.txt").write_text("".join(f"{name}=={version}\n" for name, version in pins))
            await self._uv(["pip", "install", "--target", str(site), "--no-deps", "-r", "resolved.txt",
                            "--link-mode", "copy", "--quiet", "--python", sys.executable, *self._target(image)], build)
        removed = _sanitise(site, image)
        size = tree_size(site)
        if size > rules.max_mb * 2**20:
            raise DependencyFailure("over_size", f"{size / 2**20:.0f} > {rules.max_mb}")
        if pins:
            await self.compile_bytecode(site)
        return Installed(path=site, packages=tuple(f"{name}=={version}" for name, version in pins),
                         size_bytes=tree_size(site), cached=False, removed=tuple(removed))

    def _target(self, image: ImageInfo) -> list[str]:
        return ["--python-version", image.python_version, "--python-platform", image.platform,
                "--only-binary", ":all:", "--no-config", "--cache-dir", str(self.cache.root / "uv")]

    async def _uv(self, args: list[str], cwd: Path) -> str:
        process = await asyncio.create_subprocess_exec(
            self.uv, *args, cwd=cwd, env=self._env(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await process.communicate()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise explain_uv_error(err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")

    def _env(self) -> dict[str, str]:
        env = {"PATH": os.defpath, "HOME": str(self.cache.root), "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never",
               "UV_DEFAULT_INDEX": self.settings.index_url, "NO_COLOR": "1", **dict(self.settings.client_env)}
        if self.settings.ca_bundle is not None:
            env["SSL_CERT_FILE"] = str(self.settings.ca_bundle)
        return env


def _sanitise(site: Path, image: ImageInfo) -> list[str]:
    """Take out what would replace a module of the image (ineffective anyway: the folder comes after
    the image's site-packages) or run at start-up (.pth, sitecustomize), and the host's scripts."""
    tops = {_top_name(entry.name): entry for entry in site.iterdir()}
    removed = shadowing({name: _is_namespace(entry) for name, entry in tops.items()}, image)
    for name in removed:
        _remove(tops[name])
    for entry in site.iterdir():
        if entry.name.endswith(".pth") or entry.name == "bin":
            _remove(entry)
    return removed


def _is_namespace(entry: Path) -> bool:
    return entry.is_dir() and not (entry / "__init__.py").exists()


def _top_name(filename: str) -> str:
    if filename.endswith((".dist-info", ".data", ".pth")):
        return filename
    return filename.split(".", 1)[0]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _find_uv() -> str:
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        raise InfrastructureError("uv is not installed: it installs students' dependencies") from None
