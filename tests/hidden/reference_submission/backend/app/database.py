"""Database wiring of the lesson: one async engine, one session factory, DI and schema creation."""

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./app.db"
DATABASE_URL = os.getenv("DATABASE_URL", DEFAULT_DATABASE_URL)


class Base(DeclarativeBase):
    pass


def engine_options(url: str) -> dict:
    """Pool settings for a server database; SQLite keeps the defaults."""
    if url.startswith("postgresql+asyncpg://"):
        return {"pool_pre_ping": True, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 5}
    return {}


engine = create_async_engine(DATABASE_URL, echo=False, **engine_options(DATABASE_URL))
SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def init_db() -> None:
    from app import models  # noqa: F401  (registers the tables on Base.metadata)

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session
