"""`grader serve` migrates in a child process: the schema is brought to head, Alembic never loaded in
the service's own process, and a failure is the child's one-line reason."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from grader.db.migrate_process import MigrationFailed, upgrade_in_child
from grader.db.schema import alembic_config
from tests.support.servers import REPO_ROOT

PROBE = ("import sys; from grader.db.migrate_process import upgrade_in_child; upgrade_in_child(sys.stdin.read()); "
         "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))")


def test_upgrade_in_child__migrates_to_head_without_loading_alembic_in_the_caller(tmp_path):
    path = tmp_path / "fresh.db"
    done = subprocess.run([sys.executable, "-c", PROBE], input=f"sqlite+aiosqlite:///{path}", text=True,
                          capture_output=True, check=True, cwd=REPO_ROOT, timeout=120)
    assert done.stdout.strip() == "[]"
    with sqlite3.connect(path) as connection:
        [(version,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert [version] == ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_heads()
    assert {"student_summaries", "standings"} <= tables


def test_upgrade_in_child__a_failure_is_the_childs_one_line_reason(tmp_path):
    with pytest.raises(MigrationFailed) as failed:
        upgrade_in_child(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
    assert str(failed.value) == "the database cannot be used: unable to open database file"


def test_serving_modules__do_not_import_alembic():
    probe = ("import sys; import grader.commands.service, grader.app, grader.server, grader.pipeline; "
             "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))")
    done = subprocess.run([sys.executable, "-c", probe], text=True, capture_output=True, check=True, cwd=REPO_ROOT,
                          timeout=120)
    assert done.stdout.strip() == "[]"
