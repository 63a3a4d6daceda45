"""Instructor API benchmark: the gradebook of one assignment, class statistics and the submission list,
over N roster students x 10 submissions with real-size reports.

Seeds a throwaway database (every student on the roster; every student: 2 pull requests x 5 pushes to
assignment hw1, each graded with a real report of ~9 KB (`bench/data/report.json`, the stored result
of `grader check` on a fixture, its checks varied), one in ten with an extra advisory result; the
pushes of the last days after the deadline, one student in fifty with an extension, one in a hundred
with an override), writes a course file, starts a real `grader serve` (no workers), and sends
sequential requests over one keep-alive connection, so each number is the latency of one request on
an idle server. Rows are inserted at the schema of migration 0004 and the schema is then brought to
head, so whatever later migrations derive from stored results (0005's per-student summaries) is
derived as it would be in production; on PostgreSQL every id sequence is moved past the seeded ids.

    .venv/bin/python bench/api_bench.py [--students 10000] [--database-url URL]
    .venv/bin/python bench/api_bench.py --baseline-tree /tmp/base --rounds 3   # side by side

With `--baseline-tree` (a checkout of another commit holding this same script) both trees are measured
in one run, rounds alternating and the order rotated each round; it prints each variant's medians over
the rounds and the per-round ratios of p95. On SQLite each tree has its own seeded file; PostgreSQL has
one database, seeded again whenever the tree changes (a database given to the benchmark must have
"bench" or "test" in its name: it is emptied).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402

from grader.api.tokens import create_token  # noqa: E402
from grader.db.engine import make_engine, make_sessionmaker  # noqa: E402
from grader.db.models import (  # noqa: E402
    Base,
    Extension,
    Job,
    Override,
    PullRequest,
    Repository,
    Result,
    RosterStudent,
    Submission,
)
from grader.db.schema import alembic_config  # noqa: E402
from grader.settings import SHIPPED_RUBRIC, DatabaseSettings  # noqa: E402
from tests.support.servers import running_service  # noqa: E402

TARGET_P95_MS = 100.0
REPORT = Path(__file__).with_name("data") / "report.json"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAILURE_PATTERNS: list[tuple[str, ...]] = [(), ("tests",), ("quiz",), ("tests", "migrations"), ("lint",)]
SEEDED_REVISION = "0004"  # the schema the rows are written in; later migrations derive from them
ENDPOINTS = [
    ("gradebook hw1 JSON", "/api/gradebook?assignment=hw1"),
    ("gradebook hw1 CSV", "/api/gradebook?assignment=hw1&format=csv"),
    ("gradebook hw1 Canvas", "/api/gradebook?assignment=hw1&format=canvas"),
    ("submissions, first page of 50", "/api/submissions?limit=50"),
    ("submissions, page of 200", "/api/submissions?limit=200"),
    ("submissions of one student", "/api/submissions?student=student-0500"),
    ("submissions, grade=C", "/api/submissions?grade=C&limit=50"),
    ("stats of hw1", "/api/stats?assignment=hw1"),
]
COURSE = """[course]
id = "bench"
[[assignments]]
id = "hw1"
title = "Homework 1"
rubric = "{rubric}"
repositories = ["course/*"]
deadline = "{deadline}"
late_penalty_percent_per_day = 10
max_late_days = 3
"""
SEQUENCED = ("repositories", "pull_requests", "submissions", "jobs", "results", "roster", "extensions", "overrides")


def deadline_for(students: int, per_student: int) -> datetime:
    """Pushes are a minute apart: the last 13.6 % of them arrive after the deadline."""
    return START + timedelta(minutes=int(students * per_student * 0.864))


def real_reports() -> list[dict[str, Any]]:
    """The real report, once per failure pattern: those checks failed with 0 points, the others passed."""
    base = json.loads(REPORT.read_text())
    reports = []
    for failing in FAILURE_PATTERNS:
        report = copy.deepcopy(base)
        for check in report["checks"]:
            check["passed"] = check["id"] not in failing
            check["points"] = check["max_points"] if check["passed"] else 0.0
        report["score"] = sum(check["points"] for check in report["checks"])
        score = report["score"]
        report["grade"] = "S" if score >= 90 else "A" if score >= 80 else "B" if score >= 70 else "C"
        reports.append(report)
    return reports


def _rows(students: int, per_student: int) -> dict[type[Base], list[dict[str, Any]]]:
    """Every row, with explicit ids (sequences are moved past them afterwards), for bulk inserts."""
    reports = real_reports()
    deadline = deadline_for(students, per_student)
    rows: dict[type[Base], list[dict[str, Any]]] = {
        Repository: [{"id": 1, "github_id": 1, "full_name": "course/lesson-1", "created_at": START}],
        RosterStudent: [], Extension: [], PullRequest: [], Submission: [], Job: [], Result: [], Override: []}
    for student in range(students):
        login = f"student-{student:04d}"
        rows[RosterStudent].append({"github": login, "login_key": login, "student_id": f"S{student:05d}",
                                    "name": f"Student {student}", "email": f"{login}@example.org",
                                    "created_at": START, "updated_at": START})
        if student % 50 == 0:
            rows[Extension].append({"assignment_id": "hw1", "github": login, "login_key": login,
                                    "until": deadline + timedelta(days=2), "granted_by": "bench", "created_at": START})
        for push in range(per_student):
            pr_id = student * 2 + push % 2 + 1
            if push < 2:
                rows[PullRequest].append({"id": pr_id, "repository_id": 1, "number": pr_id, "author_login": login,
                                          "title": "Lesson 1", "latest_head_sha": "0" * 40, "updated_at": START})
            sub_id = student * per_student + push + 1
            when = START + timedelta(minutes=sub_id)
            report = reports[(student + push) % len(reports)]
            rows[Submission].append({"id": sub_id, "pull_request_id": pr_id, "head_sha": f"{sub_id:040x}",
                                     "author_login": login, "received_at": when, "assignment_id": "hw1",
                                     "score": report["score"], "grade": report["grade"]})
            rows[Job].append({"id": sub_id, "submission_id": sub_id, "kind": "grade", "status": "done",
                              "attempt": 1, "run_after": when, "created_at": when, "updated_at": when})
            result = {"submission_id": sub_id, "score": report["score"], "grade": report["grade"],
                      "report": report, "duration_seconds": 40.0, "created_at": when + timedelta(seconds=40)}
            rows[Result].append({**result, "id": sub_id * 2 - 1, "job_id": sub_id, "advisory": False})
            if sub_id % 10 == 0:
                rows[Result].append({**result, "id": sub_id * 2, "job_id": None, "advisory": True})
            if student % 100 == 0 and push == per_student - 1:
                rows[Override].append({"submission_id": sub_id, "score": 85.0, "grade": "A", "note": "bench",
                                       "created_by": "bench", "created_at": when})
    return rows


async def _empty(url: str) -> None:
    engine = make_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # tables, and the functions their triggers call
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
                return
            names = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
            for name in names:
                await connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
    finally:
        await engine.dispose()


async def _insert(url: str, students: int, per_student: int) -> None:
    engine = make_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            for model, rows in _rows(students, per_student).items():
                for start in range(0, len(rows), 2000):
                    await connection.execute(insert(model), rows[start:start + 2000])
            if connection.dialect.name == "postgresql":
                for table in SEQUENCED:  # the service's own inserts must not collide with the seeded ids
                    await connection.execute(text(  # our own table names, not input
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))
    finally:
        await engine.dispose()


async def _analyze_and_token(url: str) -> str:
    engine = make_engine(DatabaseSettings(url=url))
    try:
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                await connection.execute(text("COMMIT"))
                await connection.execute(text("VACUUM ANALYZE"))
        return await create_token(make_sessionmaker(engine), "bench")
    finally:
        await engine.dispose()


def seed(url: str, students: int, per_student: int) -> str:
    """Empty the database, write the class at revision 0004, migrate to head; returns an API token."""
    asyncio.run(_empty(url))
    command.upgrade(alembic_config(url), SEEDED_REVISION)
    asyncio.run(_insert(url, students, per_student))
    command.upgrade(alembic_config(url), "head")
    return asyncio.run(_analyze_and_token(url))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(base_url: str, token: str, requests: int) -> dict[str, tuple[float, float]]:
    results = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        for label, path in ENDPOINTS:
            for _ in range(5):  # warm-up: connection, statement caches
                (await client.get(path)).raise_for_status()
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            results[label] = (statistics.median(timings), percentile(timings, 0.95))
    return results


async def _stale_standings(url: str) -> int | None:
    """Standings the service has not stored yet (None: a tree without stored standings)."""
    engine = make_engine(DatabaseSettings(url=url))
    try:
        async with engine.connect() as connection:
            if not await connection.run_sync(lambda sync: sync.dialect.has_table(sync, "standings")):
                return None
            return int((await connection.execute(text(
                "SELECT count(*) FROM standings WHERE basis IS NULL OR version != fresh_version"))).scalar_one())
    finally:
        await engine.dispose()


def wait_for_standings(url: str, started: float) -> None:
    """Until the service stored every standing the migration left to compute (its first pass)."""
    while (stale := asyncio.run(_stale_standings(url))):
        if time.perf_counter() - started > 600:
            sys.exit(f"api_bench: {stale} standings still not stored after 600 s")
        time.sleep(0.2)
    if stale is not None:
        print(f"standings stored {time.perf_counter() - started:.1f} s after the service started", file=sys.stderr)


def serve_and_measure(url: str, token: str, students: int, per_student: int,
                      requests: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as workdir:
        course = Path(workdir) / "course.toml"
        deadline = deadline_for(students, per_student)
        course.write_text(COURSE.format(rubric=SHIPPED_RUBRIC, deadline=deadline.isoformat()))
        with running_service(Path(workdir)) as start:
            started = time.perf_counter()
            service = start(url, GRADER_WORKERS="0", GRADER_COURSE=str(course))
            wait_for_standings(url, started)
            return asyncio.run(measure(service.base_url, token, requests))


def _check_database(url: str) -> None:
    name = make_url(url).database or ""
    if url.startswith("postgresql") and "bench" not in name and "test" not in name:
        sys.exit(f"api_bench: refusing to empty database {name!r}; use one whose name contains bench or test")


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def _print_table(title: str, rows: dict[str, tuple[float, float]]) -> None:
    print(title)
    print(f"  {'endpoint':34} {'p50 ms':>8} {'p95 ms':>8}")
    for label, (p50, p95) in rows.items():
        mark = "" if p95 <= TARGET_P95_MS else f"  (over the {TARGET_P95_MS:.0f} ms target)"
        print(f"  {label:34} {p50:8.1f} {p95:8.1f}{mark}")


def _child(tree: Path, *args: str) -> str:
    """Run this script of `tree` (its own grader package) and return what it printed."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(tree / "bench" / "api_bench.py"), *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def side_by_side(args: argparse.Namespace) -> None:
    trees = {"new": ROOT, "baseline": Path(args.baseline_tree).resolve()}
    common = ["--students", str(args.students), "--per-student", str(args.per_student)]
    with tempfile.TemporaryDirectory() as workdir:
        urls = {name: args.database_url or f"sqlite+aiosqlite:///{workdir}/{name}.db" for name in trees}
        tokens: dict[str, str] = {}
        seeded_pg: str | None = None
        runs: dict[str, list[dict[str, list[float]]]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                if name not in tokens or (args.database_url and seeded_pg != name):
                    started = time.perf_counter()
                    tokens[name] = _child(trees[name], "--seed-only", "--database-url", urls[name], *common).strip()
                    seeded_pg = name
                    print(f"seeded {name} in {time.perf_counter() - started:.0f} s", flush=True)
                out = _child(trees[name], "--measure-only", tokens[name], "--database-url", urls[name],
                             "--requests", str(args.requests), *common)
                runs[name].append(json.loads(out))
                print(f"round {round_ + 1}: {name} measured (load average {_load()})", flush=True)
    _report(runs)


def _report(runs: dict[str, list[dict[str, list[float]]]]) -> None:
    for name, rounds in runs.items():
        medians = {label: (statistics.median(run[label][0] for run in rounds),
                           statistics.median(run[label][1] for run in rounds)) for label in rounds[0]}
        _print_table(f"{name}: medians over {len(rounds)} rounds", medians)
    print("p95 new / baseline, per round:")
    for label in runs["new"][0]:
        ratios = [new[label][1] / base[label][1] for new, base in zip(runs["new"], runs["baseline"], strict=True)]
        print(f"  {label:34} " + "  ".join(f"{ratio:5.2f}" for ratio in ratios)
              + f"   median {statistics.median(ratios):5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--per-student", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per endpoint")
    parser.add_argument("--baseline-tree", default=None, help="another checkout to measure side by side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-only", metavar="TOKEN", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        _check_database(args.database_url)
    if args.baseline_tree:
        side_by_side(args)
    elif args.seed_only:
        print(seed(args.database_url, args.students, args.per_student))
    elif args.measure_only:
        rows = serve_and_measure(args.database_url, args.measure_only, args.students, args.per_student, args.requests)
        print(json.dumps(rows))
    else:
        with tempfile.TemporaryDirectory() as workdir:
            url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
            started = time.perf_counter()
            token = seed(url, args.students, args.per_student)
            print(f"{make_url(url).get_backend_name()}: {args.students} students x {args.per_student} submissions "
                  f"seeded in {time.perf_counter() - started:.1f} s; {args.requests} requests per endpoint")
            rows = serve_and_measure(url, token, args.students, args.per_student, args.requests)
        print(f"load average after the run: {_load()} on {os.cpu_count()} CPUs (other work skews the numbers)")
        _print_table("p50 / p95", rows)


if __name__ == "__main__":
    main()
