"""The course file (`GRADER_COURSE`): assignments with their rubric, repository patterns, deadline and
late policy, as frozen data. Every error is one line naming the file and the key.

    [course]
    id = "db-course-2026"
    language = "en"                 # the dashboard's labels: en or ru
    grade_policy = "best"           # which submission counts: best or last
    [[assignments]]
    id = "hw1"
    title = "SQLAlchemy async"
    rubric = "rubric/sqlalchemy-async.toml"   # relative to the course file
    repositories = ["course-org/hw1-*"]
    deadline = "2026-12-10T23:59:00+03:00"
    late_penalty_percent_per_day = 10
    max_late_days = 3
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "ru")
GRADE_POLICIES = ("best", "last")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-*?\[\]]+/[A-Za-z0-9_.\-*?\[\]]+$")


class CourseError(ValueError):
    """The course file cannot be used; the message is one line: `file: key problem`."""


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    rubric_path: Path
    repositories: tuple[str, ...]  # shell-style patterns over "owner/name", matched case-insensitively
    deadline: datetime | None = None  # aware; None: no deadline, nothing is late
    late_penalty_percent_per_day: float = 0.0
    max_late_days: int | None = None  # later than this many days: the push scores 0
    image: str = ""  # the runner image of this assignment ("" = GRADER_IMAGE)
    lms_column: str = ""  # the grade column's header in Canvas/Moodle exports ("" = the title)

    @property
    def export_column(self) -> str:
        return self.lms_column or self.title


@dataclass(frozen=True)
class Course:
    id: str
    assignments: tuple[Assignment, ...]
    path: Path
    language: str = "en"
    grade_policy: str = "best"

    def assignment(self, assignment_id: str) -> Assignment | None:
        return next((item for item in self.assignments if item.id == assignment_id), None)

    @property
    def assignment_ids(self) -> list[str]:
        return [item.id for item in self.assignments]


def parse_moment(raw: str, *, end_of_day_offset: datetime | None = None) -> datetime:
    """An ISO 8601 date-time with a zone; a bare date is the end of that day in the zone of
    `end_of_day_offset` (an assignment's deadline), UTC without one. Raises ValueError otherwise."""
    text = raw.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        zone = end_of_day_offset.tzinfo if end_of_day_offset is not None else None
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=zone or UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{raw!r} has no time zone (add +03:00 or Z)")
    return moment


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> CourseError:
        return CourseError(f"{self.path}: {key} {problem}")

    def text(self, data: Mapping[str, Any], key: str, name: str, default: str | None = None) -> str:
        value = data.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def identifier(self, data: Mapping[str, Any], key: str, name: str) -> str:
        value = self.text(data, key, name)
        if not ID_PATTERN.match(value):
            raise self.fail(key, "must be letters, digits, '.', '_' or '-' (at most 100)")
        return value

    def choice(self, data: Mapping[str, Any], key: str, name: str, choices: tuple[str, ...]) -> str:
        value = data.get(name, choices[0])
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}")
        return str(value)

    def number(self, data: Mapping[str, Any], key: str, name: str, default: float) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(key, "must be a number, 0 or more")
        return float(value)


def load_course(path: Path | str) -> Course:
    """The course at `path`, validated (rubric files are checked by the rubric loader)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CourseError(f"{path}: cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: is not valid TOML: {exc}") from None
    reader = _Reader(path)
    head = data.get("course")
    if not isinstance(head, dict):
        raise reader.fail("course", "must be a table ([course] with an id)")
    entries = data.get("assignments")
    if not isinstance(entries, list) or not entries:
        raise reader.fail("assignments", "must be a non-empty array of tables ([[assignments]])")
    assignments = tuple(_assignment(reader, f"assignments[{index}]", entry) for index, entry in enumerate(entries))
    _check_unique(reader, assignments)
    return Course(id=reader.identifier(head, "course.id", "id"), assignments=assignments, path=path.resolve(),
                  language=reader.choice(head, "course.language", "language", LANGUAGES),
                  grade_policy=reader.choice(head, "course.grade_policy", "grade_policy", GRADE_POLICIES))


def _assignment(reader: _Reader, key: str, entry: Any) -> Assignment:
    if not isinstance(entry, dict):
        raise reader.fail(key, "must be a table")
    max_late = entry.get("max_late_days")
    if max_late is not None and (isinstance(max_late, bool) or not isinstance(max_late, int) or max_late < 0):
        raise reader.fail(f"{key}.max_late_days", "must be a whole number of days, 0 or more")
    return Assignment(
        id=reader.identifier(entry, f"{key}.id", "id"),
        title=reader.text(entry, f"{key}.title", "title"),
        rubric_path=(reader.path.parent / reader.text(entry, f"{key}.rubric", "rubric")).resolve(),
        repositories=_repositories(reader, f"{key}.repositories", entry.get("repositories")),
        deadline=_deadline(reader, f"{key}.deadline", entry.get("deadline")),
        late_penalty_percent_per_day=min(reader.number(entry, f"{key}.late_penalty_percent_per_day",
                                                       "late_penalty_percent_per_day", 0), 100.0),
        max_late_days=max_late,
        image=str(entry.get("image", "")).strip(),
        lms_column=str(entry.get("lms_column", "")).strip(),
    )


def _repositories(reader: _Reader, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise reader.fail(key, "must be a non-empty list of owner/name patterns")
    bad = next((item for item in value if not REPOSITORY_PATTERN.match(item)), None)
    if bad is not None:
        raise reader.fail(key, f"has {bad!r}, which is not an owner/name pattern such as course-org/hw1-*")
    return tuple(value)


def _deadline(reader: _Reader, key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise reader.fail(key, "must have a time zone, e.g. 2026-12-10T23:59:00+03:00")
        return value
    if not isinstance(value, str):
        raise reader.fail(key, "must be a date-time with a zone, e.g. 2026-12-10T23:59:00+03:00")
    try:
        return parse_moment(value)
    except ValueError:
        raise reader.fail(key, "must be a date-time with a zone, e.g. 2026-12-10T23:59:00+03:00") from None


def _check_unique(reader: _Reader, assignments: tuple[Assignment, ...]) -> None:
    seen: dict[str, str] = {}
    ids = [item.id for item in assignments]
    duplicate = next((item for item in ids if ids.count(item) > 1), None)
    if duplicate:
        raise reader.fail("assignments", f"has the id {duplicate!r} more than once")
    for item in assignments:
        for pattern in item.repositories:
            other = seen.setdefault(pattern.lower(), item.id)
            if other != item.id:
                raise reader.fail(f"assignments.{item.id}.repositories",
                                  f"repeats {pattern!r} of {other}: a repository belongs to one assignment")
