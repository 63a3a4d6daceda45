"""Publish jobs through the worker: a stored result reaches the (fake) GitHub once; GitHub's rate
limits reschedule the publishing, permanent refusals end it with the reason, and an older push's
result never takes the comment of a newer one."""

from __future__ import annotations

import asyncio
import io
import tarfile

import pytest
from sqlalchemy import select

from grader.db.models import Job, JobKind, JobStatus, PullRequest, Repository, Result, Submission, utcnow
from grader.github.client import GitHubClient
from grader.grading.result import CheckGrade, GradeResult, grade_to_dict
from grader.grading.rubric_loader import load_checked_rubric
from grader.pipeline import bind_processor, process_job
from grader.pipeline.context import JobContext
from grader.queue.worker import Worker
from grader.settings import GitHubSettings, QueueSettings
from tests.conftest import FAKE_GITHUB_TOKEN, make_settings
from tests.fakegithub.server import FakeGitHub
from tests.support.polling import eventually

REPO, NUMBER = "course/publish", 5
OLD_SHA, NEW_SHA = "1" * 40, "2" * 40


@pytest.fixture(autouse=True)
def open_pull_request(fake_github: FakeGitHub) -> None:
    fake_github.pulls[(REPO, NUMBER)] = NEW_SHA


def graded(score: float) -> dict:
    check = CheckGrade(id="tests", title="Tests", passed=score >= 90, points=score, max_points=100.0,
                       summary=f"{score} of 100")
    return grade_to_dict(GradeResult(score=score, grade="S" if score >= 90 else "C", bands=["S", "C"], checks=[check],
                                     rubric_id="lesson", rubric_version="1"))


async def stored_results(sessionmaker, shas: list[str], latest: str) -> list[int]:
    """A graded submission per SHA with a queued publish job each; returns the job ids."""
    async with sessionmaker() as session, session.begin():
        repo = Repository(github_id=9, full_name=REPO)
        pr = PullRequest(repository=repo, number=NUMBER, author_login="student", latest_head_sha=latest)
        jobs = []
        for index, sha in enumerate(shas):
            submission = Submission(pull_request=pr, head_sha=sha, author_login="student", received_at=utcnow())
            score = 50.0 + index * 45
            session.add(Result(submission=submission, score=score, grade="C", report=graded(score)))
            jobs.append(Job(submission=submission, kind=JobKind.PUBLISH))
        session.add_all(jobs)
        await session.flush()
        return [job.id for job in jobs]


async def drain(sessionmaker, settings, job_ids: list[int]) -> list[Job]:
    stop = asyncio.Event()
    context = JobContext(settings, sessionmaker, load_checked_rubric(settings.grading), GitHubClient(settings.github))
    task = asyncio.create_task(Worker(sessionmaker, settings, bind_processor(process_job, context)).run(stop))
    try:
        async def settled() -> list[Job] | None:
            async with sessionmaker() as session:
                jobs = [await session.get(Job, job_id) for job_id in job_ids]
            # A job postponed for a rate limit is queued again without an attempt used, but with the reason.
            return jobs if all(job.status is not JobStatus.RUNNING and (job.attempt > 0 or job.last_error)
                               for job in jobs) else None

        return await eventually(settled, timeout=20, what="publish jobs settling")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def settings_for(database_url: str, fake: FakeGitHub):
    return make_settings(database_url, github=GitHubSettings(api_url=fake.base_url, token=FAKE_GITHUB_TOKEN),
                         queue=QueueSettings(poll_seconds=0.02, max_attempts=3))


async def test_publish__comment_and_check_run_then_ids_are_remembered(sessionmaker, database_url, fake_github):
    [job_id] = await stored_results(sessionmaker, [NEW_SHA], latest=NEW_SHA)
    [job] = await drain(sessionmaker, settings_for(database_url, fake_github), [job_id])
    assert job.status is JobStatus.DONE
    [comment] = fake_github.comments_on(REPO, NUMBER)
    assert NEW_SHA in comment["body"]
    assert "Since the last push" not in comment["body"]  # the pull request's first graded push
    async with sessionmaker() as session:
        pr = await session.scalar(select(PullRequest))
        submission = await session.scalar(select(Submission))
    assert (pr.comment_id, pr.comment_sha) == (comment["id"], NEW_SHA)
    assert fake_github.check_runs[submission.check_run_id]["status"] == "completed"


async def test_publish__the_comment_compares_with_the_previous_graded_push(sessionmaker, database_url, fake_github):
    _, new_job = await stored_results(sessionmaker, [OLD_SHA, NEW_SHA], latest=NEW_SHA)  # 50 points, then 95

    [job] = await drain(sessionmaker, settings_for(database_url, fake_github), [new_job])

    assert job.status is JobStatus.DONE
    [comment] = fake_github.comments_on(REPO, NUMBER)
    assert "**Since the last push** (1111111): 50 → 95 (+45), grade C → S" in comment["body"]
    assert "| Tests | 95 / 100 | ✅ | fixed (+45) |" in comment["body"]


async def test_publish__older_push_never_replaces_the_newer_comment(sessionmaker, database_url, fake_github):
    new_job, old_job = await stored_results(sessionmaker, [NEW_SHA, OLD_SHA], latest=NEW_SHA)
    settings = settings_for(database_url, fake_github)
    await drain(sessionmaker, settings, [new_job])
    await drain(sessionmaker, settings, [old_job])
    [comment] = fake_github.comments_on(REPO, NUMBER)
    assert NEW_SHA in comment["body"]
    assert OLD_SHA not in comment["body"]
    assert {run["head_sha"]: run["status"] for run in fake_github.check_runs.values()} == {
        NEW_SHA: "completed", OLD_SHA: "completed"}


async def test_publish__rate_limit_reschedules_after_retry_after(sessionmaker, database_url, fake_github):
    [job_id] = await stored_results(sessionmaker, [NEW_SHA], latest=NEW_SHA)
    fake_github.inject("issues/list-comments", 429, headers={"Retry-After": "120"}, message="rate limited")
    [job] = await drain(sessionmaker, settings_for(database_url, fake_github), [job_id])
    assert job.status is JobStatus.QUEUED
    assert 110 < (job.run_after - utcnow()).total_seconds() <= 120
    assert "retry" in job.last_error.lower()
    assert job.attempt == 0  # waiting for GitHub's window is not a failed attempt
    assert fake_github.comments_on(REPO, NUMBER) == []


async def test_publish__pull_request_gone_fails_for_good_with_the_reason(sessionmaker, database_url, fake_github):
    [job_id] = await stored_results(sessionmaker, [NEW_SHA], latest=NEW_SHA)
    fake_github.inject("issues/list-comments", 404, message="Not Found")
    [job] = await drain(sessionmaker, settings_for(database_url, fake_github), [job_id])
    assert (job.status, job.attempt) == (JobStatus.FAILED, 1)
    assert "404" in job.last_error


async def test_failed_grading__completes_its_check_run_with_the_reason(sessionmaker, database_url, fake_github):
    async with sessionmaker() as session, session.begin():
        pr = PullRequest(repository=Repository(github_id=9, full_name=REPO), number=NUMBER, author_login="student",
                         latest_head_sha=NEW_SHA)
        grading = Job(submission=Submission(pull_request=pr, head_sha=NEW_SHA, author_login="student",
                                            received_at=utcnow()), kind=JobKind.GRADE)
        session.add(grading)
    # The fake has no tarball of NEW_SHA: fetching the code is a 404, and the grading ends failed for good.
    settings = settings_for(database_url, fake_github)
    [graded] = await drain(sessionmaker, settings, [grading.id])
    async with sessionmaker() as session:
        publish_job = await session.scalar(select(Job).where(Job.kind == JobKind.PUBLISH))
    [published] = await drain(sessionmaker, settings, [publish_job.id])

    assert (graded.status, published.status) == (JobStatus.FAILED, JobStatus.DONE)
    [run] = fake_github.check_runs.values()
    assert (run["head_sha"], run["status"], run["conclusion"]) == (NEW_SHA, "completed", "failure")
    assert run["_history"] == ["in_progress", "completed"]
    assert "404" in run["output"]["summary"]
    assert fake_github.comments_on(REPO, NUMBER) == []


def _tarball_with_a_link() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("course-publish-2222222/backend/passwd")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    return buffer.getvalue()


async def test_ungradable_push__is_a_graded_result_with_its_reason_and_becomes_the_latest(
        sessionmaker, database_url, fake_github):
    [earlier_publish] = await stored_results(sessionmaker, [OLD_SHA], latest=NEW_SHA)  # an earlier grade
    async with sessionmaker() as session, session.begin():
        pr = await session.scalar(select(PullRequest))
        grading = Job(submission=Submission(pull_request=pr, head_sha=NEW_SHA, author_login="student",
                                            received_at=utcnow()), kind=JobKind.GRADE)
        session.add(grading)
    fake_github.tarballs[(REPO, NEW_SHA)] = _tarball_with_a_link()
    settings = settings_for(database_url, fake_github)

    [graded] = await drain(sessionmaker, settings, [grading.id])
    async with sessionmaker() as session:
        publish_job = await session.scalar(select(Job).where(Job.kind == JobKind.PUBLISH, Job.id != earlier_publish))
        newest = await session.scalar(select(Result).order_by(Result.id.desc()).limit(1))
    [published] = await drain(sessionmaker, settings, [publish_job.id])

    assert (graded.status, published.status) == (JobStatus.DONE, JobStatus.DONE)
    assert (newest.score, newest.grade) == (0.0, "C")
    reason = "the archive holds a link or special file"
    assert {check["summary"].startswith("submission rejected: " + reason) for check in newest.report["checks"]} == {
        True}
    [comment] = fake_github.comments_on(REPO, NUMBER)
    assert "This commit cannot be graded" in comment["body"] or "Этот коммит нельзя проверить" in comment["body"]
    [run] = [run for run in fake_github.check_runs.values() if run["head_sha"] == NEW_SHA]
    assert (run["status"], run["conclusion"]) == ("completed", "failure")
