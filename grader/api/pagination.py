"""Keyset cursors: a page ends at an id, the next page starts below it.

Keyset (not offset) pagination keeps every page one index range scan, however deep the client pages,
and never skips or repeats a row when new submissions arrive between two requests. The cursor is the
last id of the page, as digits: any such value is a meaningful bound, so the schema can say exactly
what a valid cursor is.
"""

from __future__ import annotations

from grader.api.parameters import MAX_ID


def encode_cursor(last_id: int) -> str:
    return str(last_id)


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues below; None for the first page (or a bound above every id)."""
    if cursor is None:
        return None
    value = int(cursor)
    return value if value <= MAX_ID else None
