"""What every job handler is given, built once by the composition root, and the reads and writes
they share: the push a job is about, and the GitHub state stored between attempts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from grader.db.models import PullRequest, Submission
from grader.github.client import GitHubClient
from grader.github.publisher import PublishState, PublishTarget
from grader.grading.rubric import Rubric
from grader.queue.jobs import FinalFailure
from grader.settings import RunnerSettings, Settings


@dataclass(frozen=True)
class JobContext:
    """`rubric` grades a submission of no assignment (no course file); with a course file each
    assignment's own rubric is in `assignment_rubrics`."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    rubric: Rubric
    github: GitHubClient
    assignment_rubrics: Mapping[str, Rubric] = field(default_factory=dict)

    def rubric_for(self, assignment_id: str | None) -> Rubric:
        return self.assignment_rubrics.get(assignment_id, self.rubric) if assignment_id else self.rubric

    def runners(self) -> list[RunnerSettings]:
        """The runner settings of every image this process may grade in, each once."""
        course = self.settings.course
        assignments = [None, *(assignment.id for assignment in course.assignments)] if course else [None]
        by_image = {runner.image: runner for runner in map(self.runner_for, assignments)}
        return list(by_image.values())

    def runner_for(self, assignment_id: str | None) -> RunnerSettings:
        """The runner settings, with the image the course file names for the assignment, else the one its
        rubric names (a runner variant), else the configured one."""
        course = self.settings.course
        assignment = course.assignment(assignment_id) if course and assignment_id else None
        image = (assignment.image if assignment else "") or self.rubric_for(assignment_id).image
        return replace(self.settings.runner, image=image) if image else self.settings.runner


@dataclass(frozen=True)
class Push:
    """What a job needs to know about its submission, read in one query."""

    target: PublishTarget
    state: PublishState
    assignment_id: str | None
    author_login: str
    received_at: datetime


async def load_push(context: JobContext, submission_id: int) -> Push:
    async with context.sessionmaker() as session:
        submission = await session.scalar(
            select(Submission).where(Submission.id == submission_id)
            .options(joinedload(Submission.pull_request).joinedload(PullRequest.repository)))
    if submission is None:
        raise FinalFailure(f"submission {submission_id} no longer exists")
    pr = submission.pull_request
    target = PublishTarget(repo=pr.repository.full_name, pr_number=pr.number, head_sha=submission.head_sha,
                           installation_id=pr.repository.installation_id, latest_head_sha=pr.latest_head_sha)
    return Push(target, PublishState(pr.comment_id, pr.comment_sha, submission.check_run_id),
                assignment_id=submission.assignment_id, author_login=submission.author_login,
                received_at=submission.received_at)


async def save_state(context: JobContext, submission_id: int, push: Push, state: PublishState) -> None:
    """Remember the check run of the submission and, for the PR's newest push, its comment."""
    async with context.sessionmaker() as session, session.begin():
        submission = await session.get(Submission, submission_id)
        if submission is None:
            return
        submission.check_run_id = state.check_run_id
        if state.comment_id is not None and state.comment_sha == push.target.head_sha:
            await session.execute(
                update(PullRequest).where(PullRequest.id == submission.pull_request_id)
                .values(comment_id=state.comment_id, comment_sha=state.comment_sha))
