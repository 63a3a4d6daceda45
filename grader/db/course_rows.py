"""Reads of the course's rows that more than one part needs: a student's extension, a submission's
overrides. The newest override is the one in force; all of them are the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grader.db.models import Extension, Override


async def extension_until(session: AsyncSession, assignment_id: str | None, login: str) -> datetime | None:
    if assignment_id is None:
        return None
    return await session.scalar(select(Extension.until).where(Extension.assignment_id == assignment_id,
                                                              Extension.login_key == login.lower()))


async def overrides_of(session: AsyncSession, submission_id: int) -> list[Override]:
    """Every override of the submission, newest first."""
    return list(await session.scalars(
        select(Override).where(Override.submission_id == submission_id).order_by(Override.id.desc())))
