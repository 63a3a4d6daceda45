"""Query and path parameters shared by the endpoints, with the bounds the database can hold.

Bounds matter: an id past the 32-bit column range or a string with a NUL byte would otherwise reach
PostgreSQL and come back as a server error instead of a 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar.exceptions import ValidationException
from litestar.params import PathParameter, QueryParameter

from grader.api.dto import JobStatusName

MAX_ID = 2_147_483_647
ASSIGNMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(\[bot\])?$"
REPOSITORY_PATTERN = r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$"

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Rows per page (1-200).")]
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
RepositoryFilter = Annotated[str | None, QueryParameter(pattern=REPOSITORY_PATTERN, max_length=200,
                                                        description="Repository full name, owner/name.")]
StudentFilter = Annotated[str | None, QueryParameter(pattern=LOGIN_PATTERN, max_length=100,
                                                     description="The student's GitHub login.")]
Login = Annotated[str, PathParameter(pattern=LOGIN_PATTERN, max_length=100, description="A GitHub login.")]
PrFilter = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID, description="Pull request number.")]
Cursor = Annotated[str | None, QueryParameter(pattern=r"^[0-9]{1,12}$",
                                              description="next_cursor of the previous page.")]
GradeFilter = Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z0-9+\-]{1,20}$",
                                                    description="The grade of the newest service result, "
                                                                "a band of the rubric.")]
Since = Annotated[datetime | None, QueryParameter(description="Only pushes received at or after this time.")]
AssignmentFilter = Annotated[str | None, QueryParameter(pattern=ASSIGNMENT_PATTERN, max_length=100,
                                                        description="An assignment id of the course file.")]
AssignmentId = Annotated[str, PathParameter(pattern=ASSIGNMENT_PATTERN, max_length=100,
                                            description="An assignment id of the course file.")]
SearchText = Annotated[str | None, QueryParameter(max_length=100, description="Part of a name, login or student id.")]
JobStatusFilter = Annotated[JobStatusName | None, QueryParameter(description="Only jobs in this state.")]


def as_utc(value: datetime | None, name: str) -> datetime | None:
    """An aware UTC time; a time without a zone is read as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationException(extra=[{"key": name, "source": "query"}]) from None
