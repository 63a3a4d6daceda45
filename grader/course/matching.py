"""Which assignment a repository belongs to: the one whose pattern matches its "owner/name".

GitHub names are case-insensitive, so both sides are compared in lower case. A repository that no
assignment claims, or that two claim, is not graded; the reason says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from grader.course.config import Course


@dataclass(frozen=True)
class Match:
    assignment_id: str | None  # None: not graded (see `reason`)
    reason: str = ""


def match_repository(course: Course, full_name: str) -> Match:
    name = full_name.lower()
    found = [assignment.id for assignment in course.assignments
             if any(fnmatchcase(name, pattern.lower()) for pattern in assignment.repositories)]
    if len(found) == 1:
        return Match(found[0])
    if not found:
        return Match(None, f"{full_name} matches no assignment of course {course.id}")
    return Match(None, f"{full_name} matches more than one assignment ({', '.join(found)})")
