"""The one log line of each delivery the webhook route answered with 2xx.

It is written for every delivery, so its record is made directly: `Logger.info` would also walk the
stack to find the caller's file and line, which the service's JSON lines do not show.
"""

from __future__ import annotations

import logging
import time

from grader.webhooks.events import PullRequestEvent
from grader.webhooks.intake import IntakeResult

log = logging.getLogger("grader.webhooks")


def log_delivery(delivery_id: str, event: str, action: str, outcome: str, started: float,
                 push: PullRequestEvent | None = None, result: IntakeResult | None = None) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, object] = {"delivery_id": delivery_id, "github_event": event, "action": action,
                                 "outcome": outcome,
                                 "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    if push is not None:
        fields.update(repo=push.repository.full_name, pr=push.pull_request.number, sha=push.pull_request.head.sha)
    if result is not None:
        fields.update(job_id=result.job_id, cancelled_jobs=result.cancelled_jobs)
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, "delivery", (), None, "log_delivery", fields))
