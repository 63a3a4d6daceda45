"""Deadlines by the service's receipt time: how late a push is, and what that costs.

A push is late when the service received it after the student's deadline (the assignment's, or the
student's extension); the commit date, which a student sets, never counts. Every started day counts:
one second late is one day late. The penalty is `late_penalty_percent_per_day` of the earned score per
day, at most 100 %; past `max_late_days` the push scores 0 (it is still graded, for the feedback).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from grader.course.config import Assignment

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Lateness:
    days: int
    penalty_percent: float
    deadline: datetime


def student_deadline(assignment: Assignment | None, extension: datetime | None) -> datetime | None:
    """The deadline that applies to one student: their extension replaces the assignment's."""
    if assignment is None or assignment.deadline is None:
        return None
    return extension if extension is not None else assignment.deadline


def late_days(received_at: datetime, deadline: datetime | None) -> int:
    if deadline is None or received_at <= deadline:
        return 0
    return math.ceil((received_at - deadline).total_seconds() / SECONDS_PER_DAY)


def penalty_percent(assignment: Assignment, days: int) -> float:
    if days <= 0:
        return 0.0
    if assignment.max_late_days is not None and days > assignment.max_late_days:
        return 100.0
    return min(100.0, days * assignment.late_penalty_percent_per_day)


def lateness(assignment: Assignment | None, received_at: datetime, extension: datetime | None) -> Lateness | None:
    """How late a push is for its student; None when it is on time (or the assignment has no deadline)."""
    deadline = student_deadline(assignment, extension)
    days = late_days(received_at, deadline)
    if assignment is None or deadline is None or days == 0:
        return None
    return Lateness(days=days, penalty_percent=penalty_percent(assignment, days), deadline=deadline)
