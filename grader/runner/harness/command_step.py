"""A rubric's `command` check: the rubric's command, run as the student in the submission's folder.

The command is the student's process (a test runner loads the student's code), so what it writes is
as trustworthy as that process: results files named by the rubric are removed before it starts, so a
committed file counts for nothing, and they are read afterwards as the student, through a pipe, so
a link cannot make the harness read anything the student could not.
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .proc import BASE_PATH
from .protocol import SUBMISSION_DIR
from .step_results import channel_problem, channel_text, outcome_fields

NODE_MODULES = "/opt/node/node_modules"  # the runner variant's npm packages, when it has some
TOOLS_PATH = f"{NODE_MODULES}/.bin"
READ_TIMEOUT_SECONDS = 10.0
# The submission's own node_modules (never packed) as links to the image's packages, in a folder the
# student owns: tools such as Vite write their temporary files into the nearest node_modules.
LINK_PACKAGES = ('[ -d "$1" ] || exit 0; mkdir -p node_modules || exit 0; for entry in "$1"/* "$1"/.bin; do '
                 '[ -e "node_modules/${entry##*/}" ] || ln -s "$entry" node_modules/; done')


def run(ctx: Context, spec: dict[str, Any]) -> dict[str, Any]:
    files = [str(name) for name in spec.get("files", [])]
    for name in files:
        ctx.run(ctx.student, ["rm", "-rf", "--", name], SUBMISSION_DIR, timeout=READ_TIMEOUT_SECONDS)
    ctx.run(ctx.student, ["sh", "-c", LINK_PACKAGES, "sh", NODE_MODULES], SUBMISSION_DIR, timeout=READ_TIMEOUT_SECONDS)
    env = {"CI": "true", "PATH": f"{TOOLS_PATH}:{BASE_PATH}", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    timeout = min(float(spec.get("timeout", 60)), ctx.timeout())
    outcome = ctx.run(ctx.student, [str(arg) for arg in spec["argv"]], SUBMISSION_DIR, env, timeout=timeout)
    artifacts, problems = {}, []
    for name in files:
        content, problem = _read_as_student(ctx, name)
        if content is not None:
            artifacts[name] = content
        if problem:
            problems.append(f"{name}: {problem}")
    fields = {**outcome_fields(outcome), "artifacts": artifacts}
    return {**fields, "summary": "; ".join(problems)} if problems else fields


def _read_as_student(ctx: Context, name: str) -> tuple[str | None, str | None]:
    """The file's text (None when it is missing) and why it could not be used, if so."""
    outcome = ctx.run(ctx.student, ["sh", "-c", 'test -f "$1" && exec cat -- "$1" > "$2"', "sh", name,
                                    "/dev/fd/{channel}"], SUBMISSION_DIR, timeout=READ_TIMEOUT_SECONDS, channel=True)
    problem = channel_problem(outcome, "the results file was")
    if problem:
        return None, problem
    return (channel_text(outcome) or "") if outcome.exit_code == 0 else None, None
