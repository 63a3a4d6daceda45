"""The student-side half of the lesson's hidden checks (public: it holds no verdicts).

It runs inside a process of the student's code, as the student (the grader's driver loads it and
calls the operations in `OPS` on behalf of the hidden tests), exercises `backend/app/database.py` and
`backend/app/models.py` and reports what it saw as plain data. The hidden tests decide what the
observations are worth, and check in the run's PostgreSQL what they can see for themselves.
An expected mistake of the student's (no engine, no function, no models) is answered as
`{"problem": code, ...}`; anything else the student's code raises becomes the driver's error answer.
Every async scenario runs in its own `asyncio.run` and disposes the student's engine on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from sqlalchemy import String, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

DATABASE_MODULE, MODELS_MODULE = "app.database", "app.models"


class ProbeBase(DeclarativeBase):
    """A table of the grader's own, so the session checks do not depend on the student's models."""


class ProbeNote(ProbeBase):
    __tablename__ = "grader_probe_notes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(String(64))


class Problem(Exception):
    """An expected mistake of the student's, answered as data: `code` and a detail."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


class WriteFailedError(RuntimeError):
    """Raised inside a transaction to see whether the flushed write is rolled back."""


def _load(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in {"app", name}:
            raise Problem("missing", name) from None
        raise Problem("broken", f"{name}: {type(exc).__name__}: {exc}") from None
    except BaseException as exc:  # the student's module may raise anything at import, SystemExit included
        raise Problem("broken", f"{name}: {type(exc).__name__}: {exc}") from None


def _members(module: ModuleType, kind: type | tuple[type, ...]) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in list(vars(module).items()) if isinstance(value, kind)]


def _engine(database: ModuleType) -> AsyncEngine:
    engines = _members(database, AsyncEngine)
    if not engines:
        raise Problem("no_engine")
    return engines[0][1]


def _maker(database: ModuleType) -> async_sessionmaker[AsyncSession]:
    makers = _members(database, async_sessionmaker)
    if not makers:
        raise Problem("no_sessionmaker")
    return makers[0][1]


def _function(database: ModuleType, name: str) -> Callable[..., Any]:
    function = getattr(database, name, None)
    if not callable(function):
        raise Problem("no_function", name)
    return function


def _metadata(database: ModuleType, models: ModuleType) -> Any:
    base = getattr(models, "Base", None) or getattr(database, "Base", None)
    metadata = getattr(base, "metadata", None)
    if metadata is None or not getattr(metadata, "tables", None):
        raise Problem("no_models")
    return metadata


def _run(database: ModuleType, scenario: Callable[[], Awaitable[Any]]) -> Any:
    """One async scenario, then the student's engine disposed on the same loop."""

    async def wrapped() -> Any:
        try:
            return await scenario()
        finally:
            with contextlib.suppress(Problem):
                await _engine(database).dispose()

    return asyncio.run(wrapped())


async def _ensure_probe_table(engine: AsyncEngine) -> None:
    """The grader's table where the student's engine points (already there on the grader's database)."""
    async with engine.begin() as connection:
        await connection.run_sync(ProbeBase.metadata.create_all)


def _engine_info(name: str, engine: AsyncEngine) -> dict[str, Any]:
    pool = engine.pool
    size = 0
    with contextlib.suppress(Exception):
        size = int(pool.size()) if hasattr(pool, "size") else 0
    recycle = getattr(pool, "_recycle", -1)
    return {"name": name, "url": engine.url.render_as_string(hide_password=False), "pool": type(pool).__name__,
            "pre_ping": bool(getattr(pool, "_pre_ping", False)),
            "recycle": float(recycle) if isinstance(recycle, int | float) else -1.0, "size": size}


def _maker_info(name: str, maker: async_sessionmaker[AsyncSession], engines: list[tuple[str, Any]]) -> dict[str, Any]:
    expire = maker.kw.get("expire_on_commit")
    try:
        async_class = issubclass(maker.class_, AsyncSession)
    except TypeError:
        async_class = False
    bind = maker.kw.get("bind")
    return {"name": name, "async_session": async_class,
            "expire_on_commit": expire if isinstance(expire, bool) else type(expire).__name__,
            "bound_to": next((engine_name for engine_name, engine in engines if bind is engine), None)}


def _problem(exc: Problem) -> dict[str, Any]:
    return {"problem": exc.code, "detail": exc.detail[:300]}


def describe() -> dict[str, Any]:
    """What app.database and app.models hold: engines, session factories, functions, sync parts, tables."""
    try:
        database = _load(DATABASE_MODULE)
        models = _load(MODELS_MODULE)
    except Problem as exc:
        return _problem(exc)
    engines = _members(database, AsyncEngine)
    sync_parts = [f"{module.__name__}.{name}: {type(value).__name__}" for module in (database, models)
                  for name, value in _members(module, (Engine, sessionmaker, Session))]
    try:
        tables = sorted(_metadata(database, models).tables)
    except Problem:
        tables = []
    return {"functions": {name: callable(getattr(database, name, None)) for name in ("get_db", "init_db")},
            "engines": [_engine_info(name, engine) for name, engine in engines],
            "makers": [_maker_info(name, maker, engines) for name, maker in _members(database, async_sessionmaker)],
            "sync_parts": sync_parts, "tables": tables}


def commit_and_read(note_id: int, body: str) -> dict[str, Any]:
    """Commit a note through the student's session factory, then read its attribute."""
    try:
        database = _load(DATABASE_MODULE)
        engine, maker = _engine(database), _maker(database)
    except Problem as exc:
        return _problem(exc)

    async def scenario() -> bool:
        await _ensure_probe_table(engine)
        async with maker() as session:
            note = ProbeNote(id=note_id, body=body)
            session.add(note)
            await session.commit()
            try:
                return note.body == body
            except MissingGreenlet:
                return False

    return {"readable": _run(database, scenario)}


def get_db_sessions() -> dict[str, Any]:
    """Two calls of get_db: what each yields, whether it stops after one session and closes it."""
    try:
        database = _load(DATABASE_MODULE)
        get_db = _function(database, "get_db")
    except Problem as exc:
        return _problem(exc)

    async def scenario() -> dict[str, Any]:
        first, second = get_db(), get_db()
        if not hasattr(first, "__anext__"):
            return {"generator": False}
        one, two = await anext(first), await anext(second)
        found = {"generator": True, "async_session": isinstance(one, AsyncSession), "distinct": one is not two}
        if not (found["async_session"] and found["distinct"]):  # a shared session is left as it was
            return found
        await one.execute(text("SELECT 1"))
        try:
            await anext(first)
            found["stops"] = False
        except StopAsyncIteration:
            found["stops"] = True
        await second.aclose()
        found["closed"] = not one.in_transaction()
        return found

    return _run(database, scenario)


def init_db() -> dict[str, Any]:
    """Drop the models' tables, run init_db, and see whether it went through engine.begin()."""
    try:
        database, models = _load(DATABASE_MODULE), _load(MODELS_MODULE)
        engine, init = _engine(database), _function(database, "init_db")
        metadata = _metadata(database, models)
    except Problem as exc:
        return _problem(exc)
    entered: list[AsyncEngine] = []
    original = AsyncEngine.begin

    def spying_begin(self: AsyncEngine) -> Any:
        entered.append(self)
        return original(self)

    async def scenario() -> set[str]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        AsyncEngine.begin = spying_begin  # type: ignore[method-assign]
        try:
            await init()
        finally:
            AsyncEngine.begin = original  # type: ignore[method-assign]
        return await _table_names(engine.url.render_as_string(hide_password=False))

    created = _run(database, scenario)
    return {"begin_entered": bool(entered), "tables": sorted(created), "declared": sorted(metadata.tables)}


async def _table_names(url: str) -> set[str]:
    """Tables seen through a new engine: only committed DDL is visible there."""
    fresh = create_async_engine(url)
    try:
        async with fresh.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await fresh.dispose()


def failing_write(control_id: int, control_body: str, failing_id: int, failing_body: str) -> dict[str, Any]:
    """Through get_db: one write committed, then one that fails after its flush; count what is left."""
    try:
        database = _load(DATABASE_MODULE)
        engine, maker, get_db = _engine(database), _maker(database), _function(database, "get_db")
    except Problem as exc:
        return _problem(exc)

    async def scenario() -> int:
        await _ensure_probe_table(engine)
        sessions = get_db()
        session = await anext(sessions)
        async with session.begin():
            session.add(ProbeNote(id=control_id, body=control_body))
        with contextlib.suppress(WriteFailedError):
            async with session.begin():
                session.add(ProbeNote(id=failing_id, body=failing_body))
                await session.flush()
                raise WriteFailedError
        await sessions.aclose()
        async with maker() as check:
            return int(await check.scalar(select(func.count()).select_from(ProbeNote)
                                          .where(ProbeNote.body == failing_body)) or 0)

    return {"failing_rows": _run(database, scenario)}


def create_models(url: str) -> dict[str, Any]:
    """The models' tables created on `url` through an engine of the probe's own."""
    try:
        database, models = _load(DATABASE_MODULE), _load(MODELS_MODULE)
        metadata = _metadata(database, models)
    except Problem as exc:
        return _problem(exc)

    async def scenario() -> None:
        fresh = create_async_engine(url)
        try:
            async with fresh.begin() as connection:
                await connection.run_sync(metadata.create_all)
        finally:
            await fresh.dispose()

    asyncio.run(scenario())
    return {"declared": sorted(metadata.tables)}


OPS: dict[str, Callable[..., Any]] = {
    "describe": describe, "commit_and_read": commit_and_read, "get_db_sessions": get_db_sessions,
    "init_db": init_db, "failing_write": failing_write, "create_models": create_models,
}
