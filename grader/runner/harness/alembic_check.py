"""The migration test's drift check, run as the student: what `alembic check` does, reported as data.

It runs the student's `env.py` against the upgraded database with autogenerate's comparison and
returns the differences found and the tables and columns the models declare (env.py's
`target_metadata`); `migrations_driver.py` sends them to the harness, which compares those tables with
what it sees in the database itself. Loaded by its path, so the harness' folder is never on the
student's sys.path.
"""

from __future__ import annotations

from typing import Any

MAX_ITEMS = 200


def _describe(diff: Any) -> str:
    """One autogenerate difference in a few words, e.g. "add_column items.price"."""
    if isinstance(diff, list):  # modify_* differences come grouped
        return "; ".join(_describe(item) for item in diff[:3])
    kind = str(diff[0]) if isinstance(diff, tuple) and diff else "difference"
    found = [item if isinstance(item, str) else getattr(item, "fullname", None) or getattr(item, "name", None)
             for item in diff[1:]]
    names = [str(name) for name in found if name]
    return f"{kind} {'.'.join(names[:2])}"[:200]


def declared_tables(metadata: Any) -> dict[str, list[str]]:
    collections = metadata if isinstance(metadata, list | tuple) else [metadata]
    tables = {}
    for item in collections:
        for table in item.sorted_tables:
            tables[table.fullname] = [column.name for column in table.columns]
    return dict(list(tables.items())[:MAX_ITEMS])


def check(ini: str) -> dict[str, Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    config = Config(ini)
    script = ScriptDirectory.from_config(config)
    seen: dict[str, Any] = {}

    def inspect(revision: Any, context: Any) -> list[Any]:
        metadata = context.opts.get("target_metadata")
        if metadata is None:
            raise RuntimeError("env.py gives no target_metadata: the models cannot be compared")
        seen["diffs"] = [_describe(diff) for diff in compare_metadata(context, metadata)][:MAX_ITEMS]
        seen["tables"] = declared_tables(metadata)
        return []

    with EnvironmentContext(config, script, fn=inspect, as_sql=False):
        script.run_env()
    if "tables" not in seen:
        raise RuntimeError("env.py did not run the migration context")
    return seen
