"""What a submission declares it needs, read from its manifests; parsing only, nothing is installed.

The first kind found wins, in this order: `uv.lock`, `poetry.lock`, `pylock.toml`, `requirements*.txt`,
then `pyproject.toml`; each is looked for in the repository's root, then in the rubric's `python_paths`
folders (e.g. `backend/`), then, when none of those has one, in the shallowest folder that does (a
project nested in `src/app/`). A lock file gives exact versions (used as constraints); the direct
requirements come from the `pyproject.toml` beside it, or from the lock itself when there is none.

Everything here reads files a student wrote: files are read without following links, never outside the
checkout, up to a size limit, in any encoding with a byte-order mark (UTF-16 included); a file that
cannot be read is a problem line in the result, never an exception.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading.rubric import DEFAULT_GROUPS

MANIFEST_LIMIT_BYTES = 4 * 2**20  # a large uv.lock is about 1 MB
MAX_REQUIREMENTS = 1000
MAX_INCLUDE_DEPTH = 5
SEARCH_DEPTH = 3

SKIPPED_FOLDERS = frozenset({".git", ".venv", "venv", "env", "node_modules", "__pycache__", "docs", "site-packages"})
KINDS = ("uv.lock", "poetry.lock", "pylock.toml", "requirements", "pyproject.toml")
BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class Declared:
    """The requirements one manifest declares, as written (the policy normalises and filters them)."""

    source: str = ""  # the files read, relative to the checkout, e.g. "uv.lock" or "backend/requirements.txt"
    requirements: tuple[str, ...] = ()  # PEP 508 lines, options of requirement files included
    pins: tuple[str, ...] = ()  # "name==version" from a lock or constraints file
    project_names: tuple[str, ...] = ()  # the submission's own distributions: never installed
    problems: tuple[tuple[str, str], ...] = ()  # (kind, file) that could not be read: see ManifestError


@dataclass
class _Collected:
    files: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def declared(self) -> Declared:
        return Declared(source=" + ".join(self.files), requirements=tuple(self.requirements[:MAX_REQUIREMENTS]),
                        pins=tuple(self.pins[:MAX_REQUIREMENTS * 4]), project_names=tuple(self.names),
                        problems=tuple(self.problems))


class ManifestError(ValueError):
    """One manifest cannot be read: `kind` is "link", "unreadable", "not_regular", "too_large",
    "not_toml" or "outside"; `subject` names the file."""

    def __init__(self, kind: str, subject: str, detail: str = "") -> None:
        super().__init__(f"{subject}: {kind.replace('_', ' ')}" + (f": {detail}" if detail else ""))
        self.kind = kind
        self.subject = subject

    @property
    def problem(self) -> tuple[str, str]:
        return self.kind, self.subject


def decode_text(data: bytes) -> str:
    """Text in the encoding its byte-order mark names; UTF-16 without one is recognised by its zero
    bytes; otherwise UTF-8, with undecodable bytes replaced."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    if len(data) >= 4 and data[1::2].count(0) > len(data) // 4 and data[0::2].count(0) == 0:
        return data.decode("utf-16-le", "replace")
    if len(data) >= 4 and data[0::2].count(0) > len(data) // 4 and data[1::2].count(0) == 0:
        return data.decode("utf-16-be", "replace")
    return data.decode("utf-8", "replace")


def read_manifest(root: Path, relative: str) -> str:
    """A file of the checkout as text: a regular file inside `root`, no link on the way, size-capped."""
    path = root / relative
    try:
        resolved = path.resolve(strict=True)
        if resolved != Path(os.path.normpath(root.resolve() / relative)):
            raise ManifestError("link", relative)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ManifestError("unreadable", relative, str(exc.strerror)) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ManifestError("not_regular", relative)
        data = handle.read(MANIFEST_LIMIT_BYTES + 1)
    if len(data) > MANIFEST_LIMIT_BYTES:
        raise ManifestError("too_large", relative)
    return decode_text(data)


def _toml(root: Path, relative: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_manifest(root, relative))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # nesting deep enough to exhaust the stack
        raise ManifestError("not_toml", relative, str(exc)[:200]) from None


# --- where to look -----------------------------------------------------------------------------------

def _is_dir(root: Path, relative: str) -> bool:
    path = root / relative
    return path.is_dir() and not path.is_symlink()


def _files(root: Path, folder: str) -> list[str]:
    """Regular files directly in `folder` (relative to root), sorted."""
    base = root / folder
    try:
        entries = sorted(os.scandir(base), key=lambda entry: entry.name)
    except OSError:
        return []
    return [_join(folder, entry.name) for entry in entries if entry.is_file(follow_symlinks=False)]


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder and folder != "." else name


def is_requirements_file(relative: str) -> bool:
    """`requirements.txt`, `requirements-dev.txt`, `test_requirements.txt`, any `requirements/*.txt`;
    documentation requirements are left out (they never help a test run)."""
    name = relative.rsplit("/", 1)[-1].lower()
    parent = relative.rsplit("/", 2)[-2].lower() if "/" in relative else ""
    if not name.endswith(".txt") or "doc" in name:
        return False
    return "requirements" in name or parent == "requirements"


def _kind_files(root: Path, folder: str, kind: str) -> list[str]:
    files = _files(root, folder)
    names = {path.rsplit("/", 1)[-1]: path for path in files}
    if kind == "pylock.toml":
        return [path for name, path in names.items() if re.fullmatch(r"pylock(\.[\w-]+)?\.toml", name)][:1]
    if kind == "requirements":
        nested = _files(root, _join(folder, "requirements")) if _is_dir(root, _join(folder, "requirements")) else []
        return [path for path in files + nested if is_requirements_file(path)]
    return [names[kind]] if kind in names else []


def candidate_folders(root: Path, python_paths: Sequence[str]) -> list[str]:
    """The root, the rubric's folders, then (if none of those holds a manifest) the shallowest folders
    that do, up to SEARCH_DEPTH deep."""
    folders = ["."] + [path.strip("/") for path in python_paths if _is_dir(root, path.strip("/"))]
    if any(_kind_files(root, folder, kind) for folder in folders for kind in KINDS):
        return folders
    return folders + _nested_project_folders(root)


def _nested_project_folders(root: Path) -> list[str]:
    found: list[str] = []
    level = ["."]
    for _ in range(SEARCH_DEPTH):
        level = [_join(folder, name) for folder in level for name in _subfolders(root, folder)]
        found = [folder for folder in level if any(_kind_files(root, folder, kind) for kind in KINDS)]
        if found:
            return found
    return found


def _subfolders(root: Path, folder: str) -> list[str]:
    try:
        entries = sorted(os.scandir(root / folder), key=lambda entry: entry.name)
    except OSError:
        return []
    return [entry.name for entry in entries
            if entry.is_dir(follow_symlinks=False) and entry.name not in SKIPPED_FOLDERS
            and not entry.name.startswith(".")]


def find_declared(root: Path, python_paths: Sequence[str] = (), groups: Sequence[str] = DEFAULT_GROUPS) -> Declared:
    """The first manifest kind found (see the module's docstring), read; an empty `Declared` when the
    submission has none."""
    folders = candidate_folders(root, python_paths)
    for kind in KINDS:
        for folder in folders:
            files = _kind_files(root, folder, kind)
            if files:
                return _read_kind(root, folder, kind, files, groups).declared()
    return Declared()


def _read_kind(root: Path, folder: str, kind: str, files: list[str], groups: Sequence[str]) -> _Collected:
    collected = _Collected()
    try:
        if kind == "requirements":
            for relative in files:
                _read_requirements(root, relative, collected, depth=0, constraint=False)
        elif kind == "pyproject.toml":
            collected.files.append(files[0])
            _read_pyproject(_toml(root, files[0]), groups, collected)
        else:
            _read_lock(root, folder, kind, files[0], groups, collected)
    except ManifestError as exc:
        collected.problems.append(exc.problem)
    return collected


# --- requirements files --------------------------------------------------------------------------------

def requirement_lines(text: str) -> list[str]:
    """Logical lines of a requirements file: continuations joined, comments and blank lines dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$")


def _read_requirements(root: Path, relative: str, collected: _Collected, depth: int, constraint: bool) -> None:
    if relative in collected.files or depth > MAX_INCLUDE_DEPTH:
        return
    collected.files.append(relative)
    for line in requirement_lines(read_manifest(root, relative)):
        include = INCLUDE.match(line)
        if include is None:
            (collected.pins if constraint else collected.requirements).append(line)
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(relative), include.group(2)))
        if target.startswith(("..", "/")):
            collected.problems.append(("outside", f"{relative}: {include.group(2)}"))
            continue
        constrains = constraint or include.group(1) in ("-c", "--constraint")
        try:
            _read_requirements(root, target, collected, depth + 1, constrains)
        except ManifestError as exc:
            collected.problems.append(exc.problem)


# --- pyproject.toml ---------------------------------------------------------------------------------------

def _read_pyproject(data: Mapping[str, Any], groups: Sequence[str], collected: _Collected) -> None:
    project = _table(data.get("project"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    collected.names += [name for name in (project.get("name"), poetry.get("name")) if isinstance(name, str)]
    collected.requirements += _strings(project.get("dependencies"))
    optional = _table(project.get("optional-dependencies"))
    for group in groups:
        collected.requirements += _strings(optional.get(group))
    collected.requirements += dependency_groups(_table(data.get("dependency-groups")), groups)
    collected.requirements += _poetry_requirements(poetry, groups)
    tool = _table(data.get("tool"))
    collected.requirements += _strings(_table(tool.get("uv")).get("dev-dependencies"))
    pdm_dev = _table(_table(tool.get("pdm")).get("dev-dependencies"))
    for group in groups:
        collected.requirements += _strings(pdm_dev.get(group))


def dependency_groups(table: Mapping[str, Any], groups: Sequence[str]) -> list[str]:
    """PEP 735 groups with their `include-group` entries followed (each group once)."""
    seen: set[str] = set()
    requirements: list[str] = []
    pending = [group for group in groups if group in table]
    while pending:
        group = pending.pop(0)
        if group in seen:
            continue
        seen.add(group)
        entries = table.get(group)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str):
                requirements.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                pending.append(entry["include-group"])
    return requirements


def _poetry_requirements(poetry: Mapping[str, Any], groups: Sequence[str]) -> list[str]:
    tables = [_table(poetry.get("dependencies"))]
    if "dev" in groups:
        tables.append(_table(poetry.get("dev-dependencies")))
    group_tables = _table(poetry.get("group"))
    tables += [_table(_table(group_tables.get(group)).get("dependencies")) for group in groups]
    return [line for table in tables for name, spec in table.items()
            if name.lower() != "python" and (line := poetry_requirement(name, spec)) is not None]


def poetry_requirement(name: str, spec: Any) -> str | None:
    """A Poetry dependency (`"^1.2"` or `{version, extras, markers}`) as PEP 508; None for a git, path
    or URL dependency (never installed) or one that cannot be understood."""
    if isinstance(spec, list):
        spec = next((item for item in spec if isinstance(item, dict) and "version" in item), None)
    if isinstance(spec, str):
        spec = {"version": spec}
    if not isinstance(spec, dict) or any(key in spec for key in ("git", "path", "url", "file")):
        return None
    extras = [extra for extra in _strings(spec.get("extras")) if re.fullmatch(r"[\w.-]+", extra)]
    version = poetry_specifier(str(spec.get("version", "*")))
    line = name + (f"[{','.join(extras)}]" if extras else "") + version
    markers = spec.get("markers")
    return f"{line} ; {markers}" if isinstance(markers, str) and markers.strip() else line


def poetry_specifier(spec: str) -> str:
    """Poetry's version constraint as a PEP 440 specifier: `^1.2.3` is `>=1.2.3,<2.0.0`, `~1.2` is
    `>=1.2,<1.3`, a bare version is exact; an alternative (`||`) is dropped (any version)."""
    if "|" in spec:
        return ""
    parts = [_poetry_part(part.strip()) for part in spec.split(",") if part.strip()]
    return ",".join(part for part in parts if part)


def _poetry_part(part: str) -> str:
    if part in ("*", ""):
        return ""
    if part.startswith("^"):
        return _bounded(part[1:], caret=True)
    if part.startswith("~") and not part.startswith("~="):
        return _bounded(part[1:], caret=False)
    if re.match(r"^(==|!=|<=|>=|<|>|~=|===)", part):
        return part.replace(" ", "")
    return f"=={part}" if re.match(r"^\d", part) else ""


def _bounded(version: str, caret: bool) -> str:
    found = re.match(r"\d+(\.\d+)*", version.strip())
    if found is None:
        return ""
    numbers = [int(number) for number in found.group(0).split(".")]
    if caret:
        bump = next((index for index, number in enumerate(numbers) if number), len(numbers) - 1)
    else:
        bump = 1 if len(numbers) > 1 else 0
    upper = [*numbers[:bump], numbers[bump] + 1]
    upper += [0] * (len(numbers) - len(upper)) if caret else []
    return f">={version.strip()},<{'.'.join(map(str, upper))}"


# --- lock files --------------------------------------------------------------------------------------------

def _read_lock(root: Path, folder: str, kind: str, relative: str, groups: Sequence[str],
               collected: _Collected) -> None:
    data = _toml(root, relative)
    collected.files.append(relative)
    if kind == "pylock.toml":
        collected.requirements += pylock_requirements(data)
        return
    packages = [item for item in data.get("package", []) if isinstance(item, dict)]
    collected.pins += lock_pins(packages)
    pyproject = _join(folder, "pyproject.toml")
    if (root / pyproject).is_file():
        collected.files.append(pyproject)
        _read_pyproject(_toml(root, pyproject), groups, collected)
    elif kind == "uv.lock":
        collected.requirements += uv_root_requirements(packages, groups)
    else:
        collected.requirements += [pin.replace(" ", "") for pin in lock_pins(packages)]
    if kind == "uv.lock":
        collected.names += [str(item.get("name")) for item in packages if _is_uv_project(item)]


def lock_pins(packages: Iterable[Mapping[str, Any]]) -> list[str]:
    """`name==version` of every package from an index; a name locked at several versions (one per
    Python version) is left unpinned."""
    versions: dict[str, set[str]] = {}
    for item in packages:
        source = _table(item.get("source"))
        from_index = not source or "registry" in source or source.get("type") == "legacy"
        if from_index and isinstance(item.get("name"), str) and isinstance(item.get("version"), str):
            versions.setdefault(item["name"], set()).add(item["version"])
    return [f"{name}=={next(iter(found))}" for name, found in sorted(versions.items()) if len(found) == 1]


def _is_uv_project(item: Mapping[str, Any]) -> bool:
    source = _table(item.get("source"))
    return "editable" in source or "virtual" in source


def uv_root_requirements(packages: Iterable[Mapping[str, Any]], groups: Sequence[str]) -> list[str]:
    """The workspace projects' own requirements, from a uv.lock without its pyproject.toml."""
    lines: list[str] = []
    for item in packages:
        if not _is_uv_project(item):
            continue
        metadata = _table(item.get("metadata"))
        entries = list(metadata.get("requires-dist") or [])
        dev = _table(metadata.get("requires-dev"))
        entries += [entry for group in groups for entry in dev.get(group) or []]
        lines += [line for entry in entries if (line := _uv_requirement(entry))]
    return lines


def _uv_requirement(entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return ""
    extras = [extra for extra in _strings(entry.get("extras")) if re.fullmatch(r"[\w.-]+", extra)]
    line = entry["name"] + (f"[{','.join(extras)}]" if extras else "") + str(entry.get("specifier", ""))
    marker = entry.get("marker")
    return f"{line} ; {marker}" if isinstance(marker, str) and marker else line


def pylock_requirements(data: Mapping[str, Any]) -> list[str]:
    """PEP 751: every package locked at a version from an index, with its marker."""
    lines = []
    for item in data.get("packages", []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "version" not in item:
            continue
        if any(key in item for key in ("vcs", "directory", "archive")):
            continue
        line = f"{item['name']}=={item['version']}"
        marker = item.get("marker")
        lines.append(f"{line} ; {marker}" if isinstance(marker, str) and marker else line)
    return lines


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
