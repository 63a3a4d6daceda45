"""The gradebook as CSV for an LMS import: a header row, one row per student, UTF-8, RFC 4180 quoting."""

from __future__ import annotations

import csv
import io

from litestar import Response

from grader.api.dto import Gradebook

CSV_COLUMNS = ("student", "latest_grade", "latest_score", "best_grade", "best_score", "attempts",
               "last_activity")


def wants_csv(output_format: str | None, accept: str) -> bool:
    """`?format=` decides when given; otherwise an Accept header naming text/csv does."""
    if output_format is not None:
        return output_format == "csv"
    return "text/csv" in accept.lower()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _guarded(text: str) -> str:
    # A login never starts with these, but a spreadsheet would run a cell that does as a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def gradebook_csv(book: Gradebook) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in book.rows:
        writer.writerow([_guarded(_cell(getattr(row, column))) for column in CSV_COLUMNS])
    return buffer.getvalue()


def gradebook_response(book: Gradebook) -> Response[str]:
    return Response(gradebook_csv(book), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="gradebook.csv"'})
