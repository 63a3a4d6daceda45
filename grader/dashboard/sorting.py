"""Sorting the gradebook table by any column, grades by rank (S first), empty cells always last."""

from __future__ import annotations

from typing import Any

from grader.api.dto import GradebookRow

SORTABLE = ("student", "latest_grade", "latest_score", "best_grade", "best_score", "attempts",
            "last_activity")
_GRADE_RANK = {"S": 0, "A": 1, "B": 2, "C": 3}


def _key(column: str) -> Any:
    def key(row: GradebookRow) -> Any:
        value = getattr(row, column)
        if column.endswith("_grade") and value is not None:
            # Descending by "goodness" is ascending by rank: S sorts above A when the order is desc.
            return -_GRADE_RANK.get(value, len(_GRADE_RANK))
        return value
    return key


def sort_rows(rows: list[GradebookRow], column: str, descending: bool) -> list[GradebookRow]:
    """Rows sorted by `column`; rows without a value go last in either order; ties by login."""
    column = column if column in SORTABLE else "student"
    key = _key(column)
    present = sorted((row for row in rows if getattr(row, column) is not None), key=lambda row: row.student)
    present.sort(key=key, reverse=descending)
    missing = sorted((row for row in rows if getattr(row, column) is None), key=lambda row: row.student)
    return present + missing
