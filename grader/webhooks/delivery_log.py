"""The one log line of each delivery the webhook route answered with 2xx."""

from __future__ import annotations

import logging
import time

from grader.webhooks.events import PullRequestEvent
from grader.webhooks.intake import IntakeResult

log = logging.getLogger("grader.webhooks")


def log_delivery(delivery_id: str, event: str, action: str, outcome: str, started: float,
                 push: PullRequestEvent | None = None, result: IntakeResult | None = None) -> None:
    fields: dict[str, object] = {"delivery_id": delivery_id, "github_event": event, "action": action,
                                 "outcome": outcome,
                                 "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    if push is not None:
        fields.update(repo=push.repository.full_name, pr=push.pull_request.number, sha=push.pull_request.head.sha)
    if result is not None:
        fields.update(job_id=result.job_id, cancelled_jobs=result.cancelled_jobs)
    log.info("delivery", extra=fields)
