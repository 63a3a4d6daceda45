"""The gradebook of an assignment as CSV: our own columns, or the import format of a Canvas or Moodle
gradebook. UTF-8, RFC 4180 quoting, one row per student.

Canvas and Moodle match a row to a student by the student id (`SIS User ID` / `ID number`), so only
roster students are exported there; a student with no grade gets an empty cell, which both leave as it
is. The grade column is the assignment's `lms_column` (default: its title).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence

from litestar import Response

from grader.api.dto import Gradebook, GradebookRow

CSV_COLUMNS = ("student_id", "name", "github", "email", "status", "score", "grade", "late_days",
               "score_at_deadline", "grade_at_deadline", "latest_score", "latest_grade", "best_score",
               "best_grade", "attempts", "last_activity", "on_roster", "overridden")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_FIXED = ("ID number", "Email address", "Full name")
FORMATS = ("json", "csv", "canvas", "moodle")


def export_format(output_format: str | None, accept: str) -> str:
    """`?format=` decides when given; otherwise an Accept header naming text/csv asks for our CSV."""
    if output_format is not None:
        return output_format
    return "csv" if "text/csv" in accept.lower() else "json"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _guarded(text: str) -> str:
    # A name or note could start with these, and a spreadsheet would run such a cell as a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_guarded(name) for name in header])
    for row in rows:
        writer.writerow([_guarded(_cell(value)) for value in row])
    return buffer.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _text(value: str | None) -> str:
    return "" if value is None else _guarded(value)


def _csv_row(row: GradebookRow) -> list[str]:
    # Column by column rather than one generic formatter per cell: 2,000 rows x 18 columns add up.
    return [_text(row.student_id), _text(row.name), _text(row.student), _text(row.email), row.status,
            _number(row.score), _text(row.grade), str(row.late_days), _number(row.score_at_deadline),
            _text(row.grade_at_deadline), _number(row.latest_score), _text(row.latest_grade), _number(row.best_score),
            _text(row.best_grade), str(row.attempts), row.last_activity.isoformat() if row.last_activity else "",
            "true" if row.on_roster else "false", "true" if row.overridden else "false"]


def gradebook_csv(book: Gradebook) -> str:
    """Every student, our columns (github is the login)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(row) for row in book.rows)
    return buffer.getvalue()


def _feedback(row: GradebookRow) -> str:
    if row.overridden:
        return "grade set by the instructor"
    return f"{row.late_days} day(s) late" if row.late_days else ""


def canvas_csv(book: Gradebook, column: str) -> str:
    """Canvas: Student, ID (Canvas's own, left empty), SIS User ID (our student_id), SIS Login ID,
    Section, then the grade column."""
    rows = ([row.name, "", row.student_id, "", "", row.score] for row in book.rows if row.on_roster)
    return _write([*CANVAS_FIXED, column], rows)


def moodle_csv(book: Gradebook, column: str) -> str:
    """Moodle: map "ID number" (or "Email address") to the user, the grade column to a grade item, and
    "Feedback" to its feedback."""
    rows = ([row.student_id, row.email, row.name, row.score, _feedback(row)] for row in book.rows if row.on_roster)
    return _write([*MOODLE_FIXED, column, "Feedback"], rows)


def export_response(book: Gradebook, kind: str, column: str) -> Response[str]:
    render: dict[str, Callable[[], str]] = {"csv": lambda: gradebook_csv(book),
                                           "canvas": lambda: canvas_csv(book, column),
                                           "moodle": lambda: moodle_csv(book, column)}
    name = f"{book.assignment or 'gradebook'}-{kind}.csv" if kind != "csv" else f"{book.assignment or 'gradebook'}.csv"
    return Response(render[kind](), media_type="text/csv",  # Litestar adds "; charset=utf-8" itself
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
