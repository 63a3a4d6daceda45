"""POST /api/workflow-reports through the ASGI app: verified tokens become advisory results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.app import create_app
from grader.db.models import PullRequest, Repository, Result, Submission
from grader.grading.result import CheckGrade, GradeResult, Remediation, grade_to_dict
from grader.settings import Settings, SettingsError, load_settings
from grader.webhooks.events import parse_pull_request
from grader.webhooks.intake import Push, record_pushes
from tests.conftest import Database, make_settings, shipped_rubric
from tests.support.webhooks import pull_request_payload
from tests.workflow_reports.issuer import REPOSITORY, WORKFLOW_REF, Issuer

URL = "/api/workflow-reports"
HEAD_SHA = "a" * 40


def grade_result(score: float = 85.0, grade: str = "A") -> GradeResult:
    check = CheckGrade(id="lint", title="Lint", passed=False, points=5, max_points=10, summary="3 findings",
                       remediation=[Remediation(title="SA1", url="https://course.example/sa1")])
    return GradeResult(score=score, grade=grade, checks=[check], next_grade="S")


def report_body(result: GradeResult | None = None, head_sha: str = HEAD_SHA) -> dict[str, Any]:
    return {"head_sha": head_sha, "result": grade_to_dict(result or grade_result())}


def oidc_variables(issuer: Issuer) -> dict[str, str]:
    return {"GRADER_OIDC_AUDIENCE": issuer.settings().audience, "GRADER_OIDC_ISSUER": issuer.url,
            "GRADER_OIDC_WORKFLOW_REF": WORKFLOW_REF, "GRADER_OIDC_REPOSITORIES": "course-2026/*, other-course/*"}


@pytest.fixture
async def client(settings: Settings, engine, issuer: Issuer) -> AsyncIterator[AsyncTestClient]:
    with_oidc = replace(settings, oidc=load_settings(oidc_variables(issuer)).oidc)
    async with AsyncTestClient(app=create_app(with_oidc, shipped_rubric())) as client:
        yield client


async def post_report(client: AsyncTestClient, token: str, body: dict[str, Any] | None = None) -> Any:
    return await client.post(URL, content=msgspec.json.encode(body or report_body()),
                             headers={"authorization": f"Bearer {token}", "content-type": "application/json"})


async def results(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Result]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Result).order_by(Result.id)))


async def test_workflow_report__verified_report_is_stored_as_advisory(client, issuer, sessionmaker) -> None:
    response = await post_report(client, issuer.token())

    assert response.status_code == 201
    assert response.json()["advisory"] is True
    async with sessionmaker() as session:
        repository = await session.scalar(select(Repository))
        pull_request = await session.scalar(select(PullRequest))
        submission = await session.scalar(select(Submission))
    assert (repository.github_id, repository.full_name) == (4242, REPOSITORY)
    assert (pull_request.number, pull_request.author_login) == (7, "alice")
    assert (submission.head_sha, submission.id) == (HEAD_SHA, response.json()["submission_id"])
    [stored] = await results(sessionmaker)
    assert stored.advisory is True
    assert stored.job_id is None
    assert (stored.score, stored.grade) == (85.0, "A")
    assert stored.report["checks"][0]["remediation"][0]["title"] == "SA1"


async def test_workflow_report__never_replaces_the_services_own_result(client, issuer,
                                                                       sessionmaker) -> None:
    payload = pull_request_payload(sha=HEAD_SHA, number=7, repo_id=4242)
    async with sessionmaker() as session, session.begin():
        pushes = [Push("delivery-1", parse_pull_request(msgspec.json.encode(payload)))]
        [intake] = await (await session.connection()).run_sync(record_pushes, pushes)
        session.add(Result(submission_id=intake.submission_id, score=95.0, grade="S", report={},
                           advisory=False))

    first = await post_report(client, issuer.token(), report_body(grade_result(40.0, "C")))
    second = await post_report(client, issuer.token(), report_body(grade_result(75.0, "B")))

    assert first.status_code == second.status_code == 201
    assert first.json()["submission_id"] == second.json()["submission_id"] == intake.submission_id
    stored = await results(sessionmaker)
    assert [(row.advisory, row.grade) for row in stored] == [(False, "S"), (True, "B")]


async def test_workflow_report__rejected_token_stores_nothing(client, issuer, sessionmaker) -> None:
    response = await post_report(client, issuer.token(aud="https://elsewhere.example"))

    assert response.status_code == 401
    assert response.json()["error"] == "The OIDC token is rejected: the token's audience is not this service."
    assert await results(sessionmaker) == []


async def test_workflow_report__token_of_another_workflow_is_rejected(client, issuer, sessionmaker) -> None:
    token = issuer.token(job_workflow_ref=f"{REPOSITORY}/.github/workflows/grade.yml@refs/pull/7/merge")

    response = await post_report(client, token)

    assert response.status_code == 401
    assert "not the course's pinned reusable workflow" in response.json()["error"]
    assert await results(sessionmaker) == []


async def test_workflow_report__missing_token_is_401(client) -> None:
    response = await client.post(URL, json=report_body())

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (report_body(head_sha="main"), "head_sha must be a 40-character lowercase hex commit SHA."),
        (report_body(grade_result(score=140.0)), "result.score must be between 0 and 100."),
        (report_body(grade_result(grade="A+")), "result.grade must be one of S, A, B, C."),
        ({"head_sha": HEAD_SHA},
         "The body is not a workflow report: Object missing required field `result`."),
    ],
)
async def test_workflow_report__malformed_body_is_400(client, issuer, sessionmaker, body, error) -> None:
    response = await post_report(client, issuer.token(), body)

    assert (response.status_code, response.json()["error"]) == (400, error)
    assert await results(sessionmaker) == []


async def test_workflow_report__without_audience_setting_the_endpoint_is_off(settings, engine) -> None:
    async with AsyncTestClient(app=create_app(settings, shipped_rubric())) as client:
        response = await client.post(URL, json=report_body(), headers={"authorization": "Bearer x.y.z"})

    assert response.status_code == 503
    assert response.json()["error"] == (
        "GRADER_OIDC_AUDIENCE is not set, so workflow reports are not accepted.")


def test_workflow_report__audience_without_pinned_workflow_stops_start_up() -> None:
    variables = {"GRADER_OIDC_AUDIENCE": "https://grader.example.test", "GRADER_OIDC_REPOSITORIES": "course-2026/*"}

    with pytest.raises(SettingsError, match="GRADER_OIDC_WORKFLOW_REF must name the pinned"):
        load_settings(variables)


@pytest.fixture
async def client_on_each_database(each_database: Database, issuer: Issuer) -> AsyncIterator[AsyncTestClient]:
    settings = replace(make_settings(each_database.url), oidc=load_settings(oidc_variables(issuer)).oidc)
    async with AsyncTestClient(app=create_app(settings, shipped_rubric(), workers=False)) as client:
        yield client


@pytest.mark.parametrize(
    ("claims", "claim"),
    [
        ({"ref": "refs/pull/12345678901234567890/merge"}, "'ref'"),
        ({"ref": "refs/pull/0/merge"}, "'ref'"),
        ({"repository_id": str(2**70)}, "'repository_id'"),
        ({"repository_id": "-5"}, "'repository_id'"),
        ({"actor": "a" * 10_000}, "'actor'"),
        ({"actor": "ali\x00ce"}, "'actor'"),
        ({"repository": "course-2026/../../etc"}, "'repository'"),
        ({"run_id": "not a number"}, "'run_id'"),
    ],
    ids=["pr-number-of-20-digits", "pr-number-zero", "repository-id-2-to-the-70", "repository-id-negative",
         "actor-of-10000-characters", "actor-with-nul", "repository-path", "run-id-text"],
)
async def test_workflow_report__a_signed_claim_out_of_githubs_shape_is_a_400_naming_it(
        client_on_each_database, each_database: Database, issuer: Issuer, claims: dict[str, str],
        claim: str) -> None:
    response = await post_report(client_on_each_database, issuer.token(**claims))

    assert response.status_code == 400
    assert claim in response.json()["error"]
    assert await results(each_database.sessionmaker) == []


async def test_workflow_report__a_body_nested_past_the_bound_is_a_400(client_on_each_database,
                                                                      each_database: Database,
                                                                      issuer: Issuer) -> None:
    body = msgspec.json.encode(report_body())[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await client_on_each_database.post(URL, content=body, headers={
        "authorization": f"Bearer {issuer.token()}", "content-type": "application/json"})

    assert response.status_code == 400
    assert "nests deeper than 64 levels" in response.json()["error"]
    assert await results(each_database.sessionmaker) == []
