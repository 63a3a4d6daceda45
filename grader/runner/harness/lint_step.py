"""Lint: ruff with the rubric's rules on every Python file of the submission.

`--isolated` reads no configuration of the student's; `--no-respect-gitignore` and an empty `exclude`
make ruff skip nothing by itself (no `.gitignore`/`.ignore` file, no default exclude such as `dist/`,
`build/` or `.venv/`): only the rubric's `lint.exclude` patterns are left out.
"""

from __future__ import annotations

import json
from typing import Any

from .context import Context
from .protocol import SUBMISSION_DIR
from .step_results import channel_problem, channel_text, outcome_fields


def ruff_argv(ctx: Context) -> list[str]:
    rules = ctx.config["lint"]
    # The rubric's pass-through settings (plugin options, per-file ignores, target version): the rubric
    # loader admits none of the grader's own (sources, exclusions, rules).
    settings = [*map(str, rules.get("settings", [])), f"src = {json.dumps([SUBMISSION_DIR, *ctx.python_paths()])}",
                f"exclude = {json.dumps(list(rules.get('exclude', [])))}"]
    argv = ["ruff", "check", "--isolated", "--no-cache", "--no-respect-gitignore", "--exit-zero",
            "--output-format", "json", "--output-file", "/dev/fd/{channel}", "--line-length", str(rules["line_length"]),
            "--select", ",".join(rules["select"]) or "E"]
    for setting in settings:
        argv += ["--config", setting]
    if rules["ignore"]:
        argv += ["--ignore", ",".join(rules["ignore"])]
    if rules["noqa"] == "ignored":
        argv.append("--ignore-noqa")
    return [*argv, "."]


def run(ctx: Context) -> dict[str, Any]:
    outcome = ctx.run(ctx.student, ruff_argv(ctx), SUBMISSION_DIR, channel=True)
    fields = {**outcome_fields(outcome), "artifacts": {"ruff.json": channel_text(outcome)}}
    problem = channel_problem(outcome, "ruff's report was")
    return {**fields, "summary": problem} if problem else fields
