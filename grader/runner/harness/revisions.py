"""The head revisions of an Alembic set-up, found by parsing its scripts, never by importing them.

Run by the harness as `python -I -B -S revisions.py ALEMBIC_INI` (as the student, with nothing of the
student's on sys.path): it reads the ini file, finds the versions folders and parses each script's
`revision` and `down_revision`. Prints one JSON object: {"heads": [...], "revisions": n} or {"error": ...}.
Standard library only; every input is bounded.
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import sys
from typing import Any

MAX_SCRIPTS = 2000
MAX_SCRIPT_BYTES = 1024 * 1024


class LayoutError(Exception):
    """The Alembic set-up cannot be read; the message says why."""


def versions_folders(ini: str) -> list[str]:
    parser = configparser.ConfigParser(defaults={"here": os.path.dirname(os.path.abspath(ini))})
    parser.read(ini, encoding="utf-8")
    if not parser.has_option("alembic", "script_location"):
        raise LayoutError("alembic.ini has no script_location")
    location = parser.get("alembic", "script_location")
    if ":" in location and not os.path.isdir(location):
        raise LayoutError(f"script_location {location!r} is a package resource; give a folder")
    base = os.path.dirname(os.path.abspath(ini))
    extra = parser.get("alembic", "version_locations", fallback="").strip()
    folders = re.split(r"[\s,;" + re.escape(os.pathsep) + r"]+", extra) if extra else [
        os.path.join(location, "versions")]
    return [os.path.join(base, folder) for folder in folders if folder]


def script_files(folders: list[str]) -> list[str]:
    files = []
    for folder in folders:
        if not os.path.isdir(folder):
            raise LayoutError(f"the versions folder {os.path.basename(folder)!r} does not exist")
        files += [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".py")]
    if len(files) > MAX_SCRIPTS:
        raise LayoutError(f"more than {MAX_SCRIPTS} revision scripts")
    return files


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None


def revision_of(path: str) -> tuple[str, list[str]] | None:
    """(revision, down revisions) of one script; None when it declares no revision."""
    if os.path.getsize(path) > MAX_SCRIPT_BYTES:
        raise LayoutError(f"{os.path.basename(path)} is larger than {MAX_SCRIPT_BYTES // 1024} KB")
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read())
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = _literal(value)
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, [down]
    return revision, [item for item in down if isinstance(item, str)] if isinstance(down, tuple | list) else []


def heads(ini: str) -> dict[str, Any]:
    revisions: dict[str, list[str]] = {}
    for path in script_files(versions_folders(ini)):
        found = revision_of(path)
        if found is not None:
            revisions[found[0]] = found[1]
    pointed_to = {down for downs in revisions.values() for down in downs}
    return {"heads": sorted(set(revisions) - pointed_to), "revisions": len(revisions)}


def main() -> None:
    try:
        result = heads(sys.argv[1])
    except (LayoutError, OSError, SyntaxError, ValueError, RecursionError, MemoryError,
            configparser.Error) as exc:
        result = {"error": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
