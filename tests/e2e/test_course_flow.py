"""End to end, a course as an instructor runs it: a course file of two assignments and a roster of five
imported with the real commands; signed deliveries for both assignments to a real `grader serve`, one
of them late and one repository of no assignment; a student who never submits and one who is not on the
roster; an override; a regrade of the assignment. The API (JSON, CSV, Canvas), the PR comments on the
(fake) GitHub and the dashboard in Chromium show all of it.

Grading is canned (the score is written in the SHA; no container), publishing is the service's own.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from grader.texts import texts_for
from tests.conftest import COURSE_FILE, WEBHOOK_SECRET
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.server import serve as serve_fake_github
from tests.support.browser import page_is_wider_than_the_screen, screenshots
from tests.support.polling import eventually_sync
from tests.support.servers import REPO_ROOT, service_env
from tests.support.webhooks import pull_request_payload, signed_delivery

pytestmark = [pytest.mark.slow]
TOKEN = "course-flow-token"
RUSSIAN = texts_for("ru")  # the lesson's rubric (hw1) comments in Russian
ENGLISH = texts_for("en")  # hw2's rubric in English
# (assignment repository, PR number, author, SHA whose first three digits are the canned score)
PUSHES = [
    ("course-org/hw1-alice", 1, "alice", "095" + "a" * 37),
    ("course-org/hw1-bob", 2, "bob", "072" + "b" * 37),
    ("course-org/hw1-carol", 3, "carol", "088" + "c" * 37),
    ("course-org/hw1-mallory", 4, "mallory", "091" + "d" * 37),
    ("course-org/hw2-alice", 5, "alice", "080" + "e" * 37),
    ("course-org/hw2-dave", 6, "dave", "090" + "f" * 37),
]
ROSTER = """github,student_id,name,email
alice,S1,Alice Archer,alice@example.org
bob,S2,Bob Baker,bob@example.org
carol,S3,Carol Cole,carol@example.org
dave,S4,Dave Dunn,dave@example.org
erin,S5,Erin Eve,erin@example.org
"""


def course_file(folder: Path) -> Path:
    """hw1 is due far ahead; hw2 was due an hour ago (10 % a day), so every hw2 push is one day late."""
    due = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    text = COURSE_FILE.read_text()
    text = text.replace('"../../../rubric/', f'"{REPO_ROOT}/rubric/').replace('"pass-fail.toml"',
                                                                        f'"{COURSE_FILE.parent}/pass-fail.toml"')
    text = text.replace('2026-12-10T23:59:00+03:00', '2099-12-10T23:59:00+03:00')
    text = text.replace('deadline = "2026-12-20T23:59:00Z"', f'deadline = "{due}"\nlate_penalty_percent_per_day = 10')
    path = folder / "course.toml"
    path.write_text(text)
    return path


def grader(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "grader", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def deliver(base_url: str, repository: str, number: int, login: str, sha: str) -> httpx.Response:
    payload = pull_request_payload("opened", sha=sha, number=number, login=login)
    payload["repository"]["full_name"] = repository
    payload["repository"]["id"] = 7000 + number
    body, headers = signed_delivery(payload, secret=WEBHOOK_SECRET)
    return httpx.post(f"{base_url}/webhooks/github", content=body, headers=headers, timeout=10)


def comment_saying(fake: FakeGitHub, repository: str, number: int, *needles: str) -> str:
    def found() -> str | None:
        bodies = [comment["body"] for comment in fake.comments_on(repository, number)]
        return next((body for body in bodies if all(needle in body for needle in needles)), None)

    return eventually_sync(found, timeout=90, interval=0.3, what=f"a comment on {repository}#{number} saying {needles}")


def queue_drained(api: httpx.Client) -> bool:
    jobs = api.get("/api/jobs?limit=200").json()["items"]
    return all(job["status"] in ("done", "failed", "cancelled") for job in jobs)


def rows(api: httpx.Client, assignment: str) -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/gradebook?assignment={assignment}")
    assert response.status_code == 200, response.text
    return {row["student"]: row for row in response.json()["rows"]}


@pytest.fixture
def running_course(serve, database_url: str, engine,
                   tmp_path: Path) -> Iterator[tuple[str, httpx.Client, FakeGitHub, str]]:
    fake = FakeGitHub(token=TOKEN)
    for repository, number, _, sha in PUSHES:
        fake.pulls[(repository, number)] = sha
    env = service_env(DATABASE_URL=database_url, GRADER_COURSE=str(course_file(tmp_path)))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    report = grader("roster", "import", str(roster), env=env)
    assert report == f"{roster}: 5 added, 0 updated, 0 unchanged, 0 rejected"
    token = grader("token", "create", "instructor", "--scope", "write", env=env)
    with serve_fake_github(fake):
        service = serve(database_url, GRADER_COURSE=env["GRADER_COURSE"], GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
                        GITHUB_API_URL=fake.base_url, GITHUB_TOKEN=TOKEN, GRADER_WORKERS="2",
                        GRADER_POLL_SECONDS="0.2",
                        GRADER_JOB_PROCESSOR="tests.support.processors:canned_course_processor")
        with httpx.Client(base_url=service.base_url, headers={"Authorization": f"Bearer {token}"},
                          timeout=10) as api:
            yield service.base_url, api, fake, token
    assert fake.rejections == []


async def test_course__deliveries_late_missing_override_regrade_in_api_comments_exports_and_dashboard(
        running_course, page: Page) -> None:
    base_url, api, fake, token = running_course
    for repository, number, login, sha in PUSHES:
        assert deliver(base_url, repository, number, login, sha).status_code == 202
    ignored = deliver(base_url, "course-org/hw9-alice", 9, "alice", "099" + "0" * 37)
    assert (ignored.status_code, ignored.json()["status"]) == (200, "no_assignment")
    comment_saying(fake, "course-org/hw1-bob", 2, "72")
    late = comment_saying(fake, "course-org/hw2-dave", 6, "90 → 81")
    assert ENGLISH.late_notice.split("**")[1].format(days=1) in late

    bob_submission = next(item["id"] for item in api.get("/api/submissions?student=bob").json()["items"])
    override = api.post(f"/api/submissions/{bob_submission}/override",
                        json={"score": 85, "note": "Tests were flaky on the runner."})
    assert override.status_code == 201, override.text
    comment_saying(fake, "course-org/hw1-bob", 2, RUSSIAN.override_notice.split("**")[1])
    eventually_sync(lambda: queue_drained(api), timeout=90, what="every job finished")
    regrade = api.post("/api/assignments/hw1/regrade").json()
    assert (regrade["submissions"], regrade["queued"]) == (4, 4)
    eventually_sync(lambda: queue_drained(api), timeout=120, what="the regrade finished")
    detail = api.get(f"/api/submissions/{bob_submission}").json()
    assert len(detail["results"]) == 2  # graded again ...
    assert (detail["shown_score"], detail["override"]["by"]) == (85.0, "instructor")  # ... the override stands
    body = comment_saying(fake, "course-org/hw1-bob", 2, RUSSIAN.override_notice.split("**")[1])
    assert "Tests were flaky on the runner" in body

    hw1, hw2 = rows(api, "hw1"), rows(api, "hw2")
    assert list(hw1) == ["alice", "bob", "carol", "dave", "erin", "mallory"]
    assert {name: (row["status"], row["grade"], row["score"]) for name, row in hw1.items()} == {
        "alice": ("graded", "S", 95.0), "bob": ("graded", "A", 85.0), "carol": ("graded", "A", 88.0),
        "dave": ("missing", None, None), "erin": ("missing", None, None), "mallory": ("graded", "S", 91.0)}
    assert hw1["mallory"]["on_roster"] is False
    assert {name: (row["status"], row["grade"], row["score"], row["late_days"]) for name, row in hw2.items()} == {
        "alice": ("late", "pass", 72.0, 1), "bob": ("missing", None, None, 0), "carol": ("missing", None, None, 0),
        "dave": ("late", "pass", 81.0, 1), "erin": ("missing", None, None, 0)}
    exported = list(csv.DictReader(io.StringIO(api.get("/api/gradebook?assignment=hw2&format=csv").text)))
    assert [(row["student_id"], row["status"], row["late_days"]) for row in exported] == [
        ("S1", "late", "1"), ("S2", "missing", "0"), ("S3", "missing", "0"), ("S4", "late", "1"),
        ("S5", "missing", "0")]
    canvas = list(csv.reader(io.StringIO(api.get("/api/gradebook?assignment=hw1&format=canvas").text)))
    assert [row[2:] for row in canvas[1:]] == [["S1", "", "", "95"], ["S2", "", "", "85"], ["S3", "", "", "88"],
                                               ["S4", "", "", ""], ["S5", "", "", ""]]

    await walk_the_dashboard(page, base_url, token, fake.base_url)


async def walk_the_dashboard(page: Page, base_url: str, token: str, github_url: str) -> None:
    await page.goto(f"{base_url}/dashboard/login")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await expect(page.locator("#assignment")).to_have_value("hw1")
    students = page.locator("#gradebook tbody tr")
    await expect(students).to_have_count(6)
    await expect(page.locator("tr[data-student=erin]")).to_have_attribute("data-status", "missing")
    await expect(page.locator("tr[data-student=mallory] [data-flag=not-on-roster]")).to_be_visible()
    await screenshots(page, "course-gradebook")
    assert not await page_is_wider_than_the_screen(page)

    await page.select_option("#status-filter", "missing")
    await page.click("#filters button[type=submit]")
    await expect(students).to_have_count(2)
    await page.fill("#search", "Dunn")
    await page.click("#filters button[type=submit]")
    assert await students.evaluate_all("rows => rows.map(r => r.dataset.student)") == ["dave"]
    await screenshots(page, "course-gradebook-filtered")

    await page.select_option("#assignment", "hw2")
    await page.click("#assignment-selector button[type=submit]")
    await expect(page.locator("tr[data-student=dave]")).to_have_attribute("data-status", "late")
    await expect(page.locator("#grade-distribution .bar[data-grade=pass]")).to_have_attribute("data-students", "2")
    async with page.expect_download() as download:
        await page.click("#exports a[data-format=canvas]")
    exported = Path(await (await download.value).path()).read_text()
    assert exported.splitlines()[0] == "Student,ID,SIS User ID,SIS Login ID,Section,Queries"

    await page.goto(f"{base_url}/dashboard?assignment=hw1")
    await page.click("tr[data-student=bob] a")
    await page.locator("#submissions a").first.click()
    await expect(page.locator("#audit-trail")).to_contain_text("Tests were flaky on the runner.")
    await expect(page.locator("#comment-html")).to_contain_text(RUSSIAN.override_notice.split("**")[1].strip(":"))
    # The configured GitHub (here the fake; GitHub Enterprise alike), not always github.com.
    await expect(page.locator("#github-link")).to_have_attribute("href", f"{github_url}/course-org/hw1-bob/pull/2")
    await screenshots(page, "course-submission")
    await page.fill("#override-score", "60")
    await page.fill("#override-note", "Copied from another student.")
    await page.click("#override-form button[type=submit]")
    await expect(page.locator("[role=status]")).to_be_visible()
    await expect(page.locator("#audit-trail tr")).to_have_count(3)
    await page.click("#regrade-submission")
    await expect(page.locator("[role=status]")).to_be_visible()
    await page.goto(f"{base_url}/dashboard/students/bob?assignment=hw1")
    await screenshots(page, "course-student")
