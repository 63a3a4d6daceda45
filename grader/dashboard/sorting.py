"""Sorting the gradebook table by any column, grades by the rubric's band order, empty cells always last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grader.api.dto import GradebookRow

SORTABLE = ("student", "latest_grade", "latest_score", "best_grade", "best_score", "attempts",
            "last_activity")


def _key(column: str, bands: Sequence[str]) -> Any:
    rank = {band: position for position, band in enumerate(bands)}

    def key(row: GradebookRow) -> Any:
        value = getattr(row, column)
        if column.endswith("_grade") and value is not None:
            # Descending by "goodness" is ascending by rank: the best band sorts first when the order is desc.
            return -rank.get(value, len(rank))
        return value
    return key


def sort_rows(rows: list[GradebookRow], column: str, descending: bool, bands: Sequence[str]) -> list[GradebookRow]:
    """Rows sorted by `column` (grades in the order of `bands`, best first); rows without a value go
    last in either order; ties by login."""
    column = column if column in SORTABLE else "student"
    key = _key(column, bands)
    present = sorted((row for row in rows if getattr(row, column) is not None), key=lambda row: row.student)
    present.sort(key=key, reverse=descending)
    missing = sorted((row for row in rows if getattr(row, column) is None), key=lambda row: row.student)
    return present + missing
