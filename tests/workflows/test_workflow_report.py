"""The report job end to end: the workflow asks the Actions token endpoint for an OIDC token, sends
the report to a real `grader serve`, and the service stores it as an advisory result."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from grader.cli import main
from grader.commands.workflow import NO_OIDC_NOTICE
from grader.db.models import Result, Submission
from grader.grading.result import grade_to_dict
from tests.feedback.factories import failing_result
from tests.support.polling import eventually_sync
from tests.support.servers import free_port, service_env, spawn, stop
from tests.workflow_reports.issuer import WORKFLOW_REF, Issuer, make_private_key, running_issuer
from tests.workflows.conftest import pull_request_event

SHA_1 = "1" * 40


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer(make_private_key()) as issuer:
        event = pull_request_event(SHA_1)
        issuer.run_claims = {"repository": event["repository"]["full_name"],
                             "repository_id": str(event["repository"]["id"]),
                             "ref": f"refs/pull/{event['number']}/merge", "actor": "Codertocat"}
        yield issuer


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually_sync(healthy, timeout=30, what="grader serve answering /health")


@pytest.fixture
def service_url(tmp_path: Path, database_url: str, engine, issuer: Issuer) -> Iterator[str]:
    """A real `grader serve` whose OIDC audience is its own URL, as the workflow requests it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = service_env(DATABASE_URL=database_url, GRADER_WORKERS="0", GRADER_OIDC_AUDIENCE=base_url,
                      GRADER_OIDC_ISSUER=issuer.url, GRADER_OIDC_WORKFLOW_REF=WORKFLOW_REF,
                      GRADER_OIDC_REPOSITORIES="Codertocat/*")
    log = tmp_path / "serve.log"
    process = spawn(["serve", "--port", str(port)], env, log)
    try:
        _wait_until_healthy(base_url, process, log)
        yield base_url
    finally:
        stop(process)


async def test_workflow__report_job_stores_an_advisory_result(run_workflow, service_url: str, issuer: Issuer,
                                                              sessionmaker) -> None:
    result = failing_result("ru")

    jobs, _ = run_workflow(pull_request_event(SHA_1), result, inputs={"service-url": service_url},
                           env=issuer.actions_env())

    assert not jobs["report"].skipped
    assert "report stored by the service as advisory result" in "".join(jobs["report"].logs)
    async with sessionmaker() as session:
        [stored] = list(await session.scalars(select(Result)))
        submission = await session.get(Submission, stored.submission_id)
    assert stored.advisory is True
    assert (stored.score, stored.grade) == (result.score, result.grade)
    assert submission.head_sha == SHA_1
    assert submission.author_login == "Codertocat"


async def test_workflow__without_an_oidc_token_the_report_job_says_why(run_workflow, service_url: str,
                                                                       sessionmaker) -> None:
    jobs, _ = run_workflow(pull_request_event(SHA_1), failing_result("en"),
                           inputs={"service-url": service_url})

    assert NO_OIDC_NOTICE in jobs["report"].summary
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Result))) == []


def test_send__refusal_is_one_line_with_the_services_reason(tmp_path: Path, service_url: str,
                                                           issuer: Issuer) -> None:
    students_workflow = "Codertocat/Hello-World/.github/workflows/grade.yml@refs/pull/2/merge"
    issuer.run_claims["job_workflow_ref"] = students_workflow
    report, event = tmp_path / "report.json", tmp_path / "event.json"
    report.write_text(json.dumps(grade_to_dict(failing_result("en"))))
    event.write_text(json.dumps(pull_request_event(SHA_1)))

    completed = subprocess.run(
        [sys.executable, "-m", "grader", "workflow", "send", "--report", str(report), "--event", str(event),
         "--service-url", service_url],
        env=service_env(**issuer.actions_env()), capture_output=True, text=True, timeout=60, check=False)

    assert completed.returncode == 2
    assert completed.stderr == (
        "grader: the service refused the report (HTTP 401): The OIDC token is rejected: "
        f"the run used workflow {students_workflow}, not the course's pinned reusable workflow.\n")


def actions_run_inputs(tmp_path: Path, issuer: Issuer, monkeypatch) -> tuple[Path, Path]:
    """The Actions variables of a run, its report file and its event file."""
    for name, value in issuer.actions_env().items():
        monkeypatch.setenv(name, value)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(grade_to_dict(failing_result("en"))))
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(SHA_1)))
    return report, event


def test_send__in_process_stores_the_report(tmp_path: Path, service_url: str, issuer: Issuer, monkeypatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    report, event = actions_run_inputs(tmp_path, issuer, monkeypatch)

    code = main(["workflow", "send", "--report", str(report), "--event", str(event),
                 "--service-url", service_url + "/"])

    assert code == 0
    assert capsys.readouterr().out.startswith("report stored by the service as advisory result ")


def test_send__unreachable_service_is_one_line(tmp_path: Path, issuer: Issuer, monkeypatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    report, event = actions_run_inputs(tmp_path, issuer, monkeypatch)

    code = main(["workflow", "send", "--report", str(report), "--event", str(event),
                 "--service-url", f"http://127.0.0.1:{free_port()}"])

    assert code == 2
    assert capsys.readouterr().err == "grader: sending the report failed: [Errno 111] Connection refused\n"
