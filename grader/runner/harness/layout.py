"""Where a submission's modules import from, decided the way pytest decides it.

pytest's rule: a module's import root is the first folder, walking up from the module, that has no
`__init__.py`; the module's name is its path below that root. So `backend/app/database.py` is
`backend.app.database` when `backend/__init__.py` exists (the student writes `from backend.app...`)
and `app.database` under `backend/` when it does not (`from app...`). The hidden checks' driver gets
`package_location` to import the lesson's package under the name the student's own code uses; the
student's tests and migrations get `source_roots` (and the folders their imports need) on PYTHONPATH.

The functions that only look at names (folders, `__init__.py`) run in the harness. Those that read the
student's files (pytest settings, imports, alembic.ini) run in a process of the student's, like
`revisions.py`: `python -I -B layout.py tests|migrations ...` prints one JSON object. Standard library
only, every input bounded: it runs in the runner image.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import json
import os
import shlex
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEPS_MOUNT = "/opt/deps"  # protocol.DEPS_MOUNT (this file also runs on its own, without the package)
SKIPPED_FOLDERS = frozenset({".git", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages"})
SEARCH_DEPTH = 4
MAX_PARSED_FILES = 300
MAX_PARSED_BYTES = 512 * 1024
# pytest-cov's options: removed from the student's addopts (the grader measures coverage itself, and
# an option of a plugin that is not installed would stop pytest before any test).
COVERAGE_OPTIONS = ("--cov", "--cov-report", "--cov-config", "--cov-fail-under", "--cov-branch", "--cov-append",
                    "--cov-context", "--no-cov", "--no-cov-on-fail", "--cov-reset")
COVERAGE_VALUE_OPTIONS = ("--cov-report", "--cov-config", "--cov-fail-under", "--cov-context")


@dataclass(frozen=True)
class Location:
    root: str  # the sys.path entry
    module: str  # the dotted name under that root


def import_root(path: str) -> str:
    """The folder that goes on sys.path for `path` (a module file or a package folder, regular or
    namespace): the first folder above it without `__init__.py`."""
    folder = os.path.dirname(path.rstrip(os.sep))
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def module_location(path: str) -> Location:
    """The import root of `path` and the dotted name it has there."""
    root = import_root(path)
    relative = os.path.relpath(path, root)
    stem = relative[:-3] if relative.endswith(".py") else relative
    parts = [part for part in stem.split(os.sep) if part and part != "__init__"]
    return Location(root=root, module=".".join(parts))


def package_location(submission: str, folders: Sequence[str], package: str) -> Location | None:
    """Where the lesson's `package` (e.g. "app") is in this submission: first under the rubric's
    folders, then at the root; None when it is nowhere."""
    for folder in [*folders, submission]:
        candidate = os.path.join(folder, *package.split("."))
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            return module_location(candidate)
    return None


def aliases(expected: str, actual: str) -> dict[str, str]:
    """{"app": "backend.app"} when the lesson's `app` is the student's `backend.app`; {} when equal."""
    return {} if expected == actual else {expected: actual}


def source_roots(submission: str, folders: Sequence[str]) -> list[str]:
    """The rubric's folders and, for each that is itself a package, its import root: both spellings
    (`from app...` and `from backend.app...`) import."""
    roots: list[str] = []
    for folder in folders:
        roots.append(folder)
        if os.path.isfile(os.path.join(folder, "__init__.py")):
            roots.append(import_root(folder))
    return _unique(root for root in roots if root.startswith(submission))


def ini_pythonpath(submission: str) -> list[str]:
    """The `pythonpath` of the student's pytest configuration at the root, as folders."""
    found = _pytest_ini(submission)
    if found is None:
        return []
    value = found.get("pythonpath", [])
    entries = value if isinstance(value, list) else str(value).split()
    folders = [os.path.normpath(os.path.join(submission, str(entry))) for entry in entries]
    return [folder for folder in folders if folder.startswith(submission) and os.path.isdir(folder)]


def student_addopts(submission: str) -> list[str] | None:
    """The `addopts` of the student's pytest configuration at the root, as tokens; None without one."""
    found = _pytest_ini(submission)
    if found is None or "addopts" not in found:
        return None
    value = found["addopts"]
    try:
        return [str(item) for item in value] if isinstance(value, list) else shlex.split(str(value))
    except ValueError:
        return []


def without_coverage_options(tokens: Sequence[str]) -> list[str]:
    """`tokens` without pytest-cov's options (and the value of those that take one)."""
    kept: list[str] = []
    skip_value = False
    for token in tokens:
        if skip_value:
            skip_value = False
            if not token.startswith("-"):
                continue
        name = token.split("=", 1)[0]
        if name in COVERAGE_OPTIONS:
            skip_value = "=" not in token and name in (*COVERAGE_VALUE_OPTIONS, "--cov")
            continue
        kept.append(token)
    return kept


def _pytest_ini(submission: str) -> dict[str, object] | None:
    """pytest's own order at one folder: pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg."""
    for name in ("pytest.ini", ".pytest.ini"):
        path = os.path.join(submission, name)
        if os.path.isfile(path) and not os.path.islink(path):  # used even when empty, as pytest does
            return _ini_section(path, "pytest") or {}
    pyproject = _read_toml(os.path.join(submission, "pyproject.toml"))
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    pytest = tool.get("pytest") if isinstance(tool, dict) else None
    if isinstance(pytest, dict):
        options = pytest.get("ini_options")
        return dict(options) if isinstance(options, dict) else {k: v for k, v in pytest.items() if k != "ini_options"}
    for name, section_name in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        section = _ini_section(os.path.join(submission, name), section_name)
        if section is not None:
            return section
    return None


def _ini_section(path: str, name: str) -> dict[str, object] | None:
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            parser.read_string(handle.read(MAX_PARSED_BYTES))
    except (configparser.Error, RecursionError):
        return None
    return dict(parser[name]) if parser.has_section(name) else None


def _read_toml(path: str) -> dict[str, object]:
    if not os.path.isfile(path) or os.path.islink(path):
        return {}
    try:
        with open(path, "rb") as handle:
            return tomllib.loads(handle.read(MAX_PARSED_BYTES).decode("utf-8", "replace"))
    except (tomllib.TOMLDecodeError, OSError, RecursionError):
        return {}


def top_level_imports(path: str) -> list[str]:
    """The top-level names a file imports absolutely (found by parsing, never by importing)."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(MAX_PARSED_BYTES))
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):  # a student's file, parsed as root
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return _unique(names)


def roots_for_imports(submission: str, files: Iterable[str], known: Sequence[str],
                      installed: Iterable[str] = ()) -> list[str]:
    """Folders to add so that the files' imports of the submission's own modules resolve: for each
    imported name that is neither importable from `known` roots nor installed (nor the standard
    library), the shallowest folder of the submission that holds it."""
    skip = set(sys.stdlib_module_names) | set(installed)
    wanted = [name for path in list(files)[:MAX_PARSED_FILES] for name in top_level_imports(path)
              if name not in skip and not any(_provides(root, name) for root in known)]
    found = [folder for name in _unique(wanted) if (folder := _shallowest_provider(submission, name))]
    return _unique(found)


def _provides(folder: str, name: str) -> bool:
    return os.path.isfile(os.path.join(folder, f"{name}.py")) or os.path.isdir(os.path.join(folder, name))


def _shallowest_provider(submission: str, name: str) -> str | None:
    level = [submission]
    for _ in range(SEARCH_DEPTH):
        for folder in level:
            if _provides(folder, name):
                return folder
        level = [os.path.join(folder, entry) for folder in level for entry in subfolders(folder)]
    return None


def subfolders(folder: str) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [name for name in names if name not in SKIPPED_FOLDERS and not name.startswith(".")
            and os.path.isdir(os.path.join(folder, name)) and not os.path.islink(os.path.join(folder, name))]


def python_files(folder: str, names: Sequence[str] = ("conftest.py",), test_files: bool = True) -> list[str]:
    """Files named `names` (and test files) under `folder`, in walk order, bounded."""
    found: list[str] = []
    for base, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name not in SKIPPED_FOLDERS and not name.startswith("."))
        found += [os.path.join(base, name) for name in sorted(files)
                  if name in names or (test_files and name.startswith("test_") and name.endswith(".py"))]
        if len(found) >= MAX_PARSED_FILES:
            break
    return found[:MAX_PARSED_FILES]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def alembic_env_files(ini: str, submission: str) -> list[str]:
    """The env.py of the ini's script location (`%(here)s` and `package:path` understood), or any
    env.py beside a `versions` folder under the ini's folder."""
    here = os.path.dirname(ini)
    parser = configparser.ConfigParser(interpolation=None)
    with contextlib.suppress(configparser.Error, OSError, RecursionError), \
            open(ini, encoding="utf-8", errors="replace") as handle:
        parser.read_string(handle.read(MAX_PARSED_BYTES))
    location = parser.get("alembic", "script_location", fallback="").replace("%(here)s", here).strip()
    if ":" in location and not location.startswith("/"):
        package, _, resource = location.partition(":")
        location = os.path.join(*package.split("."), resource)
    candidate = os.path.normpath(os.path.join(here, location, "env.py"))
    if location and os.path.isfile(candidate) and candidate.startswith(submission):
        return [candidate]
    return [path for path in python_files(here, names=("env.py",), test_files=False)
            if os.path.isdir(os.path.join(os.path.dirname(path), "versions"))][:3]


def installed_names() -> set[str]:
    """Top-level names importable from the image and the mounted dependencies (listed, never imported)."""
    names: set[str] = set()
    for folder in sys.path:
        if folder.endswith("site-packages") or folder == DEPS_MOUNT:
            for entry in _listdir(folder):
                names.add(entry.split(".", 1)[0])
    return names


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def scan_for_tests(submission: str, known: Sequence[str]) -> dict[str, object]:
    """PYTHONPATH of the student's tests (the `known` roots, the student's pytest `pythonpath`, the
    folders their conftest and test files import from) and their addopts without pytest-cov's options
    (None when nothing needs taking out)."""
    known = [*known, *ini_pythonpath(submission)]
    found = roots_for_imports(submission, python_files(submission), [submission, *known], installed_names())
    tokens = student_addopts(submission)
    kept = without_coverage_options(tokens) if tokens is not None else None
    return {"paths": _unique([*known, *found]), "addopts": None if kept == tokens else kept}


def scan_for_migrations(submission: str, ini: str, known: Sequence[str]) -> dict[str, object]:
    """PYTHONPATH of the migrations: the `known` roots and the folders alembic's env.py imports from."""
    found = roots_for_imports(submission, alembic_env_files(ini, submission), [submission, *known],
                              installed_names())
    return {"paths": _unique([*known, *found])}


def main() -> None:
    """`layout.py tests SUBMISSION KNOWN_JSON` or `layout.py migrations SUBMISSION KNOWN_JSON INI`."""
    mode, submission, known = sys.argv[1], sys.argv[2], [str(path) for path in json.loads(sys.argv[3])]
    if mode == "tests":
        print(json.dumps(scan_for_tests(submission, known)))
    else:
        print(json.dumps(scan_for_migrations(submission, sys.argv[4], known)))


if __name__ == "__main__":
    main()
