"""The roster file: `github,student_id,name,email`, one student a row. Parsing is pure: each row is
taken or rejected with a reason, so an import reports every problem at once instead of stopping at
the first."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

COLUMNS = ("github", "student_id", "name", "email")
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FIELD = 200


class RosterError(ValueError):
    """The file as a whole cannot be read (not CSV, or a column missing); one line."""


@dataclass(frozen=True)
class RosterEntry:
    github: str
    student_id: str
    name: str
    email: str
    line: int = 0  # in the file, for the import's report

    @property
    def key(self) -> str:
        return self.github.lower()


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedRoster:
    entries: list[RosterEntry]
    rejected: list[Rejected]


def _problem(row: dict[str, str]) -> str | None:
    github, student_id, email = row["github"], row["student_id"], row["email"]
    if not LOGIN.match(github):
        return f"github {github!r} is not a GitHub login"
    if not student_id:
        return "student_id is empty"
    if email and not EMAIL.match(email):
        return f"email {email!r} is not an address"
    too_long = next((column for column in COLUMNS if len(row[column]) > MAX_FIELD), None)
    return f"{too_long} is longer than {MAX_FIELD} characters" if too_long else None


def parse_roster(text: str) -> ParsedRoster:
    """Rows of a roster CSV (UTF-8, a header naming the four columns in any order, extra columns ignored)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise RosterError(f"the header must name the columns {','.join(COLUMNS)}; missing: {', '.join(missing)}")
    reader.fieldnames = header
    entries: list[RosterEntry] = []
    rejected: list[Rejected] = []
    logins: set[str] = set()
    ids: set[str] = set()
    for row in reader:
        line = reader.line_num
        values = {column: (row.get(column) or "").strip() for column in COLUMNS}
        problem = _problem(values)
        if problem is None and values["github"].lower() in logins:
            problem = f"github {values['github']!r} is listed twice"
        if problem is None and values["student_id"] in ids:
            problem = f"student_id {values['student_id']!r} is listed twice"
        if problem is not None:
            rejected.append(Rejected(line, problem))
            continue
        logins.add(values["github"].lower())
        ids.add(values["student_id"])
        entries.append(RosterEntry(**values, line=line))
    return ParsedRoster(entries, rejected)
