"""The migration test on the run's PostgreSQL, judged from the database, not from exit codes.

As the student, in one process (`migrations_driver.py`, so the student's env.py and models load once):
`alembic upgrade head`, `downgrade base`, `upgrade head` again, then the drift check
(`alembic_check.py`). After each step the driver waits while the harness stops every process of the
student's and looks at the database itself, with its own psql client as the database's owner (no
student code runs in it): after an upgrade `alembic_version` must hold the
head revision(s) of the scripts (found by parsing them, `revisions.py`) and there must be tables; after
the downgrade no table but `alembic_version` may remain; the drift check must find no difference and
the tables in the database must be those the models declare, column for column. "Single head" is
credited only when the upgrade ran.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from . import layout, postgres
from .context import TESTS_DATABASE, Context
from .proc import Dialog, Outcome, frozen
from .protocol import BOOTSTRAP, OUTCOME_ERROR, OUTCOME_EXITED, OUTCOME_NOT_RUN, SUBMISSION_DIR
from .step_results import outcome_fields

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))
DATABASE = "student"
VERSION_TABLE = "alembic_version"
ALEMBIC_SEARCH_DEPTH = 3
UPGRADES = ("upgrade", "downgrade", "upgrade_again")
ENDED = "the migration process ended during this step"
STATE_SQL = """
SELECT json_build_object(
  'tables', COALESCE((SELECT json_object_agg(t.key, t.columns) FROM (
      SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END AS key,
             (SELECT COALESCE(json_agg(a.attname::text ORDER BY a.attnum), '[]'::json) FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
       ORDER BY 1 LIMIT 500) t), '{}'::json),
  'versions', (SELECT COALESCE(json_agg(x::text), '[]'::json) FROM (
      SELECT unnest(xpath('//version_num/text()', query_to_xml(
               format('SELECT version_num FROM %I.%I LIMIT 20', n.nspname, c.relname), false, false, ''))) AS x
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relname = 'alembic_version' AND c.relkind = 'r'
       ORDER BY n.nspname = 'public' DESC, n.nspname LIMIT 1) v))
"""


def find_alembic_ini(ctx: Context) -> str | None:
    """alembic.ini at the root, in the rubric's folders, else the shallowest one (a nested project)."""
    level = [SUBMISSION_DIR, *ctx.python_paths()]
    for _ in range(ALEMBIC_SEARCH_DEPTH + 1):
        for folder in level:
            candidate = os.path.join(folder, "alembic.ini")
            if os.path.isfile(candidate) and not os.path.islink(candidate):
                return candidate
        level = [os.path.join(folder, name) for folder in level for name in layout.subfolders(folder)]
    return None


def run(ctx: Context) -> dict[str, Any]:
    ini = find_alembic_ini(ctx)
    if ini is None:
        return {"outcome": OUTCOME_NOT_RUN, "summary": "no Alembic configuration found"}
    error = ctx.postgres_ready(lambda: _empty_database(ctx))
    if error:
        return {"outcome": OUTCOME_ERROR, "summary": error}
    started = time.monotonic()
    test = _MigrationTest(ctx, ini)
    results = test.run()
    final = test.worst or test.last
    fields = outcome_fields(final) if final else {"outcome": OUTCOME_EXITED}
    return {**fields, "duration_seconds": time.monotonic() - started, "migrations": results}


class _MigrationTest:
    def __init__(self, ctx: Context, ini: str) -> None:
        self.ctx, self.ini, self.cwd = ctx, ini, os.path.dirname(ini)
        paths, _ = ctx.scan_layout("migrations", ini, also=(self.cwd,))
        self.env = {"DATABASE_URL": postgres.database_url(ctx.student.name, DATABASE), **ctx.student_env(DATABASE),
                    "PYTHONPATH": os.pathsep.join(paths)}
        self.worst: Outcome | None = None
        self.last: Outcome | None = None
        self.upgraded: dict[str, Any] | str = "not upgraded"  # the database after the last upgrade
        self.heads: dict[str, Any] = {}
        self.results: list[dict[str, Any]] = []
        self.mark = time.monotonic()

    def run(self) -> list[dict[str, Any]]:
        self.heads = self.script_heads()
        self.mark = time.monotonic()
        argv = ["python", "-B", "-c", BOOTSTRAP, os.path.join(HARNESS_DIR, "migrations_driver.py"), self.ini]
        outcome = self.command(argv, channel=True, dialog=self.on_message)
        for result in self.results:  # a step that raised: what it printed before, then the error
            if result.pop("raised", False):
                printed = [line[:300] for line in outcome.output.splitlines() if line.strip()]
                result["error_lines"] = [*printed[-(10 - len(result["error_lines"])):], *result["error_lines"]]
        for name in (*UPGRADES, "drift")[len(self.results):]:
            previous = self.results[-1] if self.results else None
            if previous is not None and not previous["ok"]:
                self.results.append(_skipped(name, previous["name"]))
            else:  # the process ended (or was stopped) before it reported this step
                problems = [*_ended(outcome), *self.verify(name)] if outcome.kind == OUTCOME_EXITED else []
                self.results.append(_step(name, outcome, problems))
        self.results.append(self.single_head(self.heads, self.results[0]["ok"]))
        return self.results

    def command(self, argv: list[str], *, channel: bool = False, dialog: Dialog | None = None) -> Outcome:
        outcome = self.ctx.run(self.ctx.student, argv, self.cwd, self.env, channel=channel, dialog=dialog)
        self.last = outcome
        if outcome.kind != OUTCOME_EXITED:
            self.worst = outcome
        return outcome

    def on_message(self, line: bytes) -> bytes:
        """`go` when the step the driver reports passed, else `stop`."""
        self.record(line)
        return b"go\n" if self.results and self.results[-1]["ok"] else b"stop\n"

    def record(self, line: bytes) -> None:
        """One step the driver reports, in the expected order only: an upgrade or downgrade is judged
        from the database while every process of the student's is stopped; the drift check's report is
        compared with the database as the last upgrade left it."""
        message, expected = _json(line.decode("utf-8", "replace")), (*UPGRADES, "drift")
        done = len(self.results)
        if not isinstance(message, dict) or done >= len(expected) or message.get("step") != expected[done] \
                or (self.results and not self.results[-1]["ok"]):
            return
        now, name = time.monotonic(), expected[len(self.results)]
        seconds, self.mark = now - self.mark, now
        if name == "drift":
            self.results.append(self.drift(message.get("report"), seconds))
            return
        if message.get("ok") is not True:
            lines = [str(item)[:300] for item in message.get("error_lines") or [] if item][-6:]
            self.results.append({"name": name, "ok": False, "duration_seconds": seconds,
                                 "error_lines": lines or [f"{name} failed"], "raised": True})
            return
        with frozen(self.ctx.student.uid):
            problems = self.verify(name)
        self.results.append({"name": name, "ok": not problems, "duration_seconds": seconds,
                             "error_lines": problems[:10]})

    def verify(self, name: str) -> list[str]:
        """What the database says of the step `name` (nothing to say of the drift check's)."""
        if name == "drift":
            return []
        return (self.after_downgrade if name == "downgrade" else self.after_upgrade)(self.heads)

    def script_heads(self) -> dict[str, Any]:
        argv = ["python", "-I", "-B", "-S", os.path.join(HARNESS_DIR, "revisions.py"), self.ini]
        outcome = self.ctx.run(self.ctx.student, argv, self.cwd, timeout=min(self.ctx.timeout(), 60.0),
                               tail_chars=20_000)
        try:
            found = json.loads(outcome.output.strip().splitlines()[-1])
        except (ValueError, IndexError, RecursionError):
            found = None
        return found if isinstance(found, dict) else {"error": "the revision scripts could not be read"}

    def state(self) -> dict[str, Any] | str:
        """Tables (with their columns) and the recorded revisions, as the database owner sees them."""
        try:
            state = postgres.query_json(self.ctx.student, DATABASE, STATE_SQL, only_own=True)
        except postgres.DatabaseError as exc:
            return f"the database could not be read: {exc}"
        if not isinstance(state, dict) or not isinstance(state.get("tables"), dict):
            return "the database could not be read"
        return state

    def after_upgrade(self, heads: dict[str, Any]) -> list[str]:
        state = self.upgraded = self.state()
        if isinstance(state, str):
            return [state]
        if "error" in heads:
            return [f"the revision scripts could not be read: {heads['error']}"]
        versions = sorted(str(item) for item in state.get("versions") or [])
        problems = []
        if versions != sorted(heads["heads"]):
            problems.append(f"alembic_version holds {versions or 'nothing'}, the scripts' head is {heads['heads']}")
        if not set(state["tables"]) - {VERSION_TABLE}:
            problems.append("the upgrade created no tables")
        return problems

    def after_downgrade(self, heads: dict[str, Any]) -> list[str]:
        state = self.state()
        if isinstance(state, str):
            return [state]
        left = sorted(set(state["tables"]) - {VERSION_TABLE})
        problems = [f"tables left after downgrade base: {', '.join(left[:10])}"] if left else []
        if state.get("versions"):
            problems.append(f"alembic_version still holds {state['versions'][:5]}")
        return problems

    def drift(self, report: Any, seconds: float) -> dict[str, Any]:
        if not isinstance(report, dict) or "error" in report:
            reason = report.get("error") if isinstance(report, dict) else None
            problems = [str(reason or "the drift check did not finish")[:300]]
        else:
            problems = self.compare(report)
        return {"name": "drift", "ok": not problems, "duration_seconds": seconds, "error_lines": problems[:10]}

    def compare(self, report: dict[str, Any]) -> list[str]:
        """The models against what the migrations made (the database after `upgrade head`, read before
        the student's env.py ran again)."""
        state = self.upgraded
        if isinstance(state, str):
            return [state]
        diffs = [str(item) for item in report.get("diffs") or []]
        found = report.get("tables")
        declared: dict[str, Any] = found if isinstance(found, dict) else {}
        present = {name: columns for name, columns in state["tables"].items() if name != VERSION_TABLE}
        problems = [f"models and migrations differ: {diff}" for diff in diffs[:8]]
        if not declared:
            problems.append("the models declare no tables")
        for name in sorted(set(declared) ^ set(present))[:8]:
            where = "the models only" if name in declared else "the database only"
            problems.append(f"table {name} is in {where}")
        for name in sorted(set(declared) & set(present)):
            if sorted(map(str, declared[name])) != sorted(map(str, present[name])):
                problems.append(f"table {name}: the database's columns differ from the model's")
        return problems

    def single_head(self, heads: dict[str, Any], upgraded: bool) -> dict[str, Any]:
        if not upgraded:
            return {"name": "single_head", "ok": False, "error_lines": ["not run: upgrade failed"]}
        count = len(heads.get("heads", [])) if "error" not in heads else None
        ok = count == 1
        lines = [] if ok else [f"expected exactly one head revision, found {count if count is not None else 'none'}"
                               + (f": {heads['error']}" if "error" in heads else "")]
        return {"name": "single_head", "ok": ok, "duration_seconds": 0.0, "error_lines": lines}


def _empty_database(ctx: Context) -> bool:
    """The student's database without what the student's own tests left in it (there, or in the
    database of tests run on PostgreSQL, whose tables could fill the disk)."""
    commands = ["DROP OWNED BY CURRENT_USER", f"\\c {TESTS_DATABASE}", "DROP OWNED BY CURRENT_USER"]
    return postgres.psql(ctx.student, DATABASE, *commands).exit_code == 0


def _ended(outcome: Outcome) -> list[str]:
    """Why a step has no report although the process was not stopped: its exit and last output lines."""
    output = [line for line in outcome.output.splitlines() if line.strip()]
    return [f"{ENDED} (exit status {outcome.exit_code})", *output[-6:]]


def _exited_ok(outcome: Outcome) -> bool:
    return outcome.kind == OUTCOME_EXITED and outcome.exit_code == 0


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except (ValueError, RecursionError):
        return None


def _skipped(name: str, failed: str) -> dict[str, Any]:
    return {"name": name, "ok": False, "error_lines": [f"not run: {failed} failed"]}


def _step(name: str, outcome: Outcome, problems: list[str]) -> dict[str, Any]:
    """A step passes when its command exited 0 and the database checks found nothing."""
    output = [line for line in outcome.output.splitlines() if line.strip()]
    ok = _exited_ok(outcome) and not problems
    if outcome.kind != OUTCOME_EXITED:
        lines = [f"{outcome.kind} after {outcome.duration_seconds:.1f} s", *output[-8:]]
    elif problems:
        lines = [*problems[:8], *([] if outcome.exit_code == 0 else output[-2:])]
    else:
        lines = output[-10:]
    return {"name": name, "ok": ok, "duration_seconds": outcome.duration_seconds,
            "error_lines": [] if ok else [line[:300] for line in lines[:10]]}
