"""What the steps share: the fields every step result carries."""

from __future__ import annotations

from typing import Any

from .proc import Outcome
from .protocol import ARTIFACT_LIMIT_BYTES


def outcome_fields(outcome: Outcome) -> dict[str, Any]:
    return {"outcome": outcome.kind, "exit_code": outcome.exit_code, "duration_seconds": outcome.duration_seconds,
            "output_tail": outcome.output, "output_bytes": outcome.total_bytes, "truncated": outcome.truncated}


def channel_text(outcome: Outcome) -> str | None:
    """What the tool sent through its results pipe, as text; None when it sent nothing or too much."""
    if not outcome.channel or outcome.channel_overflow:
        return None
    return outcome.channel[:ARTIFACT_LIMIT_BYTES].decode("utf-8", "replace")


def channel_problem(outcome: Outcome, what: str) -> str | None:
    """Why the results pipe gave nothing usable, for the step's summary."""
    if outcome.channel_overflow:
        return f"{what} larger than {ARTIFACT_LIMIT_BYTES // 1_000_000} MB"
    return None
