"""Instructor API benchmark: the gradebook of one assignment and the submission list over 2,000 roster
students x 10 submissions.

Seeds a throwaway database (every student on the roster; every student: 2 pull requests x 5 pushes to
assignment hw1, each graded, one in ten with an extra advisory result; the pushes of the last days after
the deadline, one student in fifty with an extension, one in a hundred with an override), writes a course
file, starts a real `grader serve` on both (no workers), and sends sequential requests over one
keep-alive connection, so each number is the latency of one request on an idle server.

    .venv/bin/python bench/api_bench.py                       # SQLite in a temporary directory
    .venv/bin/python bench/api_bench.py --database-url postgresql+asyncpg://grader:grader@127.0.0.1/grader_bench

The PostgreSQL database is emptied first, so its name must contain "bench" or "test".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
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
from grader.db.schema import upgrade_to_head  # noqa: E402
from grader.settings import SHIPPED_RUBRIC, DatabaseSettings  # noqa: E402
from tests.api.factories import grade_report  # noqa: E402
from tests.support.servers import running_service  # noqa: E402

TARGET_P95_MS = 100.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAILURE_PATTERNS: list[tuple[str, ...]] = [(), ("tests",), ("quiz",), ("tests", "migrations"), ("lint",)]
DEADLINE = START + timedelta(days=12)  # of 20,000 pushes a minute apart: the last 2,720 are late
ENDPOINTS = [
    ("gradebook hw1 JSON", "/api/gradebook?assignment=hw1"),
    ("gradebook hw1 CSV", "/api/gradebook?assignment=hw1&format=csv"),
    ("gradebook hw1 Canvas", "/api/gradebook?assignment=hw1&format=canvas"),
    ("submissions, first page of 50", "/api/submissions?limit=50"),
    ("submissions, page of 200", "/api/submissions?limit=200"),
    ("submissions of one student", "/api/submissions?student=student-0500"),
    ("submissions, grade=C", "/api/submissions?grade=C&limit=50"),
    ("stats (reads 2,000 reports)", "/api/stats?assignment=hw1"),
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


def _rows(students: int, per_student: int) -> dict[type[Base], list[dict[str, Any]]]:
    """Every row, with explicit ids, for bulk inserts (executemany, not one ORM object at a time)."""
    reports = [grade_report(pattern) for pattern in FAILURE_PATTERNS]
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
                                    "until": DEADLINE + timedelta(days=2), "granted_by": "bench", "created_at": START})
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


async def seed(url: str, students: int, per_student: int) -> str:
    """Empty the schema, insert the class, return a fresh API token."""
    engine = make_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await asyncio.to_thread(upgrade_to_head, url)
        async with engine.begin() as connection:
            for model, rows in _rows(students, per_student).items():
                for start in range(0, len(rows), 2000):
                    await connection.execute(insert(model), rows[start:start + 2000])
            if connection.dialect.name == "postgresql":
                await connection.execute(text("ANALYZE"))
        return await create_token(make_sessionmaker(engine), "bench")
    finally:
        await engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(base_url: str, token: str, requests: int) -> list[tuple[str, float, float]]:
    results = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        for label, path in ENDPOINTS:
            for _ in range(5):  # warm-up: connection, statement caches
                (await client.get(path)).raise_for_status()
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            results.append((label, statistics.median(timings), percentile(timings, 0.95)))
    return results


def _check_database(url: str) -> None:
    name = make_url(url).database or ""
    if url.startswith("postgresql") and "bench" not in name and "test" not in name:
        sys.exit(f"api_bench: refusing to empty database {name!r}; use one whose name contains bench or test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--per-student", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per endpoint")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
        _check_database(url)
        started = time.perf_counter()
        token = asyncio.run(seed(url, args.students, args.per_student))
        backend = make_url(url).get_backend_name()
        print(f"{backend}: {args.students} students x {args.per_student} submissions seeded in "
              f"{time.perf_counter() - started:.1f} s; {args.requests} requests per endpoint")
        course = Path(workdir) / "course.toml"
        course.write_text(COURSE.format(rubric=SHIPPED_RUBRIC, deadline=DEADLINE.isoformat()))
        with running_service(Path(workdir)) as start:
            service = start(url, GRADER_WORKERS="0", GRADER_COURSE=str(course))
            rows = asyncio.run(measure(service.base_url, token, args.requests))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average during the run: {load} on {os.cpu_count()} CPUs (other work skews the numbers)")
    print(f"{'endpoint':34} {'p50 ms':>8} {'p95 ms':>8}")
    for label, p50, p95 in rows:
        mark = "" if p95 <= TARGET_P95_MS else f"  (over the {TARGET_P95_MS:.0f} ms target)"
        print(f"{label:34} {p50:8.1f} {p95:8.1f}{mark}")


if __name__ == "__main__":
    main()
