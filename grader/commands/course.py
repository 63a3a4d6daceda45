"""`grader roster import FILE.csv` and `grader extension grant ASSIGNMENT LOGIN UNTIL`: the course's
students and their deadlines."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.actions import grant_extension
from grader.commands.database import run_with_database
from grader.course.config import parse_moment
from grader.course.roster import LOGIN, Rejected, RosterEntry, RosterError, parse_roster
from grader.db.models import RosterStudent, utcnow
from grader.errors import CommandError
from grader.settings import Settings

EXTENSION_BY = "grader extension grant"


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    rejected: list[Rejected]

    def line(self, file: str) -> str:
        text = f"{file}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, " \
               f"{len(self.rejected)} rejected"
        if self.rejected:
            text += ": " + "; ".join(f"line {item.line}: {item.reason}" for item in self.rejected)
        return text


def _changed(row: RosterStudent, entry: RosterEntry) -> bool:
    return (row.github, row.student_id, row.name, row.email) != (entry.github, entry.student_id, entry.name,
                                                                 entry.email)


async def upsert_roster(sessionmaker: async_sessionmaker[AsyncSession], entries: list[RosterEntry],
                        rejected: list[Rejected]) -> ImportReport:
    """Add new students, update known ones (by login); a student id that belongs to another login is
    rejected. Students missing from the file stay."""
    added = updated = unchanged = 0
    refused = list(rejected)
    async with sessionmaker() as session, session.begin():
        rows = {row.login_key: row for row in await session.scalars(select(RosterStudent))}
        owners = {row.student_id: row.login_key for row in rows.values()}
        now = utcnow()
        for entry in entries:
            owner = owners.get(entry.student_id)
            if owner is not None and owner != entry.key:
                refused.append(Rejected(entry.line, f"student_id {entry.student_id!r} belongs to {rows[owner].github}"))
                continue
            row = rows.get(entry.key)
            if row is None:
                session.add(RosterStudent(github=entry.github, login_key=entry.key, student_id=entry.student_id,
                                          name=entry.name, email=entry.email, created_at=now, updated_at=now))
                added += 1
            elif _changed(row, entry):
                owners.pop(row.student_id, None)
                row.github, row.student_id, row.name, row.email, row.updated_at = (
                    entry.github, entry.student_id, entry.name, entry.email, now)
                updated += 1
            else:
                unchanged += 1
            owners[entry.student_id] = entry.key
    return ImportReport(added, updated, unchanged, sorted(refused, key=lambda item: item.line))


def roster_import_command(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    try:
        parsed = parse_roster(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: is not UTF-8 text") from None
    except RosterError as exc:
        raise CommandError(f"{path}: {exc}") from None
    report = run_with_database(settings, lambda sessionmaker: upsert_roster(sessionmaker, parsed.entries,
                                                                             parsed.rejected))
    print(report.line(str(path)))
    return 0


def extension_grant_command(args: argparse.Namespace, settings: Settings) -> int:
    course = settings.course
    if course is None:
        raise CommandError("extensions need a course file: set GRADER_COURSE")
    assignment = course.assignment(args.assignment)
    if assignment is None:
        raise CommandError(f"no assignment {args.assignment!r}; the course has {', '.join(course.assignment_ids)}")
    if not LOGIN.match(args.login):
        raise CommandError(f"{args.login!r} is not a GitHub login")
    try:
        until = parse_moment(args.until, end_of_day_offset=assignment.deadline)
    except ValueError:
        raise CommandError(f"UNTIL must be a date-time with a zone (2026-12-12T23:59:00+03:00) or a date, "
                           f"got {args.until!r}") from None

    async def grant(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with sessionmaker() as session, session.begin():
            await grant_extension(session, assignment, args.login, until, EXTENSION_BY)

    run_with_database(settings, grant)
    print(f"{args.login} has until {until.isoformat()} for {assignment.id}")
    return 0
