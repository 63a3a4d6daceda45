"""What a statement's result says about the rows it wrote."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult, Result


def affected_rows(result: Result[Any]) -> int:
    """The number of rows an UPDATE or DELETE matched (its result is always a cursor result)."""
    return cast("CursorResult[Any]", result).rowcount
