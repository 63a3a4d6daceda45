"""Run a workflow's jobs on this machine the way a GitHub runner would, closely enough to test it.

Each job gets its own workspace; each `run:` step runs with `bash --noprofile --norc -eo pipefail`
(GitHub's bash), only the environment GitHub gives plus the `env:` the step declares, and fresh
`GITHUB_OUTPUT` / shared `GITHUB_STEP_SUMMARY` / `GITHUB_PATH` files. The three actions the
workflow uses are played by small local equivalents (checkout copies a fixture tree, the artifact
actions copy files between jobs). Expressions are resolved from a context of plain data; an
expression this runner does not understand fails the test rather than being guessed.

`stand_ins` replaces the script of a step, by step name, e.g. the step that installs grader from PyPI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.workflows.workflow_files import load

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
NOT_EMPTY = re.compile(r"^([\w.-]+) != ''$")


@dataclass
class JobRun:
    job_id: str
    skipped: bool = False
    workspace: Path | None = None
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)


def _lookup(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"the local runner cannot resolve ${{{{ {path} }}}}")
        value = value[part]
    return value


def resolve(text: str, context: Mapping[str, Any]) -> str:
    return EXPRESSION.sub(lambda match: str(_lookup(context, match.group(1))), text)


def condition_holds(condition: str, context: Mapping[str, Any]) -> bool:
    match = NOT_EMPTY.match(condition.strip())
    if match is None:
        raise ValueError(f"the local runner cannot evaluate if: {condition}")
    return _lookup(context, match.group(1)) != ""


@dataclass
class LocalRunner:
    workflow: Path
    root: Path  # scratch directory of this run
    checkout_source: Path
    inputs: dict[str, Any]
    github: dict[str, Any]  # the `github` context: token, event, ...
    event_path: Path
    base_env: dict[str, str]
    stand_ins: dict[str, str] = field(default_factory=dict)

    def run(self) -> dict[str, JobRun]:
        document = load(self.workflow)
        declared = document["on"]["workflow_call"]["inputs"]
        inputs = {name: self.inputs.get(name, spec.get("default")) for name, spec in declared.items()}
        missing = [name for name, spec in declared.items()
                   if spec.get("required") and name not in self.inputs]
        assert not missing, f"required inputs not given: {missing}"
        jobs: dict[str, JobRun] = {}
        for job_id, job in document["jobs"].items():
            context = {"inputs": inputs, "github": self.github}
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            assert all(need in jobs and not jobs[need].skipped for need in needs), f"{job_id} needs {needs}"
            if "if" in job and not condition_holds(job["if"], context):
                jobs[job_id] = JobRun(job_id, skipped=True)
                continue
            jobs[job_id] = self._run_job(job_id, job, context)
        return jobs

    def _run_job(self, job_id: str, job: dict[str, Any], context: dict[str, Any]) -> JobRun:
        home = self.root / job_id
        workspace, temp = home / "workspace", home / "temp"
        workspace.mkdir(parents=True)
        temp.mkdir()
        files = {name: home / name for name in ("summary.md", "path.txt")}
        for path in files.values():
            path.touch()
        result = JobRun(job_id, workspace=workspace)
        steps_context: dict[str, Any] = {}
        for index, step in enumerate(job["steps"]):
            step_context = {**context, "steps": steps_context}
            if "uses" in step:
                self._play_action(step, workspace, step_context)
                continue
            outputs = self._run_step(index, step, step_context, workspace, temp, files, result)
            if "id" in step:
                steps_context[step["id"]] = {"outputs": outputs}
                result.step_outputs[step["id"]] = outputs
        result.summary = files["summary.md"].read_text()
        final = {**context, "steps": steps_context}
        result.outputs = {name: resolve(value, final) for name, value in job.get("outputs", {}).items()}
        return result

    def _run_step(self, index: int, step: dict[str, Any], context: dict[str, Any], workspace: Path,
                  temp: Path, files: dict[str, Path], result: JobRun) -> dict[str, str]:
        output_file = temp.parent / f"output-{index}.txt"
        output_file.touch()
        extra_path = [line for line in files["path.txt"].read_text().splitlines() if line]
        env = {**self.base_env, "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp),
               "GITHUB_EVENT_PATH": str(self.event_path), "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
               "GITHUB_PATH": str(files["path.txt"]), "GITHUB_OUTPUT": str(output_file),
               "PATH": os.pathsep.join([*reversed(extra_path), self.base_env["PATH"]])}
        env.update({name: resolve(str(value), context) for name, value in step.get("env", {}).items()})
        script = self.stand_ins.get(step["name"], step["run"])
        completed = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                                   cwd=workspace, env=env, capture_output=True, text=True, timeout=300,
                                   check=False)
        result.logs.append(f"--- {step['name']} (exit {completed.returncode})\n"
                           f"{completed.stdout}{completed.stderr}")
        assert completed.returncode == 0, "\n".join(result.logs)
        return _parse_outputs(output_file.read_text())

    def _play_action(self, step: dict[str, Any], workspace: Path, context: dict[str, Any]) -> None:
        action, options = step["uses"].split("@")[0], step.get("with", {})
        artifacts = self.root / "artifacts"
        if action == "actions/checkout":
            assert options.get("persist-credentials") is False
            assert resolve(options["ref"], context) == self.github["event"]["pull_request"]["head"]["sha"]
            shutil.copytree(self.checkout_source, workspace / options.get("path", "."), dirs_exist_ok=True)
        elif action == "actions/upload-artifact":
            (artifacts / options["name"]).mkdir(parents=True)
            shutil.copy(workspace / options["path"], artifacts / options["name"])
        elif action == "actions/download-artifact":
            shutil.copytree(artifacts / options["name"], workspace, dirs_exist_ok=True)
        else:
            raise AssertionError(f"the local runner has no stand-in for {action}")


def _parse_outputs(text: str) -> dict[str, str]:
    assert "<<" not in text, "multi-line outputs are not used by this workflow"
    return dict(line.split("=", 1) for line in text.splitlines() if line)
