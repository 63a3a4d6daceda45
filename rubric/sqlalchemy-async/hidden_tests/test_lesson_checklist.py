"""Hidden checks of the lesson checklist: behaviour of backend/app/database.py and backend/app/models.py.

Run by the grader with the student's `backend` folder on sys.path, never shown to students.
Self-contained on purpose: no conftest, no pytest plugin, each async scenario in its own
`asyncio.run`. Failure messages are for the student (in Russian, like the lesson).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import String, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

LAYOUT = ("expected backend/app/database.py (engine, SessionLocal, get_db, init_db) "
          "and backend/app/models.py, as in the lesson")
_SCRATCH = Path(tempfile.mkdtemp(prefix="grader-hidden-"))


class ProbeBase(DeclarativeBase):
    """A table of our own, so the session checks do not depend on the student's models."""


class ProbeNote(ProbeBase):
    __tablename__ = "grader_probe_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50), unique=True)


class WriteFailedError(RuntimeError):
    """Raised inside a transaction to see whether the flushed write is rolled back."""


def _import(name: str) -> ModuleType:
    """The student's module, or a clear failure naming the expected layout."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in {"app", name}:
            pytest.fail(f"{LAYOUT}: модуль {name} не найден", pytrace=False)
        pytest.fail(f"{name} не импортируется: {exc}", pytrace=False)
    except Exception as exc:  # the student's code may raise anything at import time
        pytest.fail(f"{name} падает при импорте: {type(exc).__name__}: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def database() -> ModuleType:
    os.environ.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{_SCRATCH / 'hidden.db'}")
    return _import("app.database")


@pytest.fixture(scope="module")
def models(database: ModuleType) -> ModuleType:
    return _import("app.models")


def _members(module: ModuleType, kind: type | tuple[type, ...]) -> list[Any]:
    return [value for value in vars(module).values() if isinstance(value, kind)]


def _engine(database: ModuleType) -> AsyncEngine:
    engines = _members(database, AsyncEngine)
    if not engines:
        pytest.fail("в app/database.py нет async engine: создай его через create_async_engine(...)",
                    pytrace=False)
    return engines[0]


def _sessionmaker(database: ModuleType) -> async_sessionmaker[AsyncSession]:
    makers = _members(database, async_sessionmaker)
    if not makers:
        pytest.fail("в app/database.py нет async_sessionmaker "
                    "(например SessionLocal = async_sessionmaker(...))", pytrace=False)
    return makers[0]


def _function(database: ModuleType, name: str) -> Callable[..., Any]:
    function = getattr(database, name, None)
    if not callable(function):
        pytest.fail(f"{LAYOUT}: в app/database.py нет функции {name}", pytrace=False)
    return function


def _run(database: ModuleType, scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Runs one async scenario and disposes the student's engine on the same loop."""

    async def wrapped() -> Any:
        try:
            return await scenario()
        finally:
            await _engine(database).dispose()

    return asyncio.run(wrapped())


async def _reset_probe(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(ProbeBase.metadata.drop_all)
        await connection.run_sync(ProbeBase.metadata.create_all)


def test_database_module_has_the_lesson_layout(database: ModuleType, models: ModuleType) -> None:
    for name in ("get_db", "init_db"):
        _function(database, name)
    _engine(database)
    _sessionmaker(database)


def test_engine_and_sessions_are_async_only(database: ModuleType, models: ModuleType) -> None:
    for module in (database, models):
        sync_parts = _members(module, (Engine, sessionmaker, Session))
        assert not sync_parts, (f"{module.__name__} смешивает sync и async API: {sync_parts!r}; "
                                "используй create_async_engine и async_sessionmaker")
    maker = _sessionmaker(database)
    assert issubclass(maker.class_, AsyncSession), "async_sessionmaker должен выдавать AsyncSession"
    assert maker.kw.get("bind") is _engine(database), "async_sessionmaker должен быть привязан к async engine"


def test_attributes_are_readable_after_commit(database: ModuleType) -> None:
    engine, maker = _engine(database), _sessionmaker(database)

    async def scenario() -> None:
        await _reset_probe(engine)
        async with maker() as session:
            note = ProbeNote(body="after-commit")
            session.add(note)
            await session.commit()
            try:
                assert note.body == "after-commit"
            except MissingGreenlet:
                pytest.fail("после commit атрибуты объекта недоступны без нового запроса: "
                            "укажи expire_on_commit=False в async_sessionmaker", pytrace=False)

    _run(database, scenario)


def test_get_db_yields_one_session_per_call_and_closes_it(database: ModuleType) -> None:
    get_db = _function(database, "get_db")

    async def scenario() -> None:
        first, second = get_db(), get_db()
        if not hasattr(first, "__anext__"):
            pytest.fail("get_db должна быть async-генератором: "
                        "async with SessionLocal() as session: yield session", pytrace=False)
        one, two = await anext(first), await anext(second)
        assert isinstance(one, AsyncSession), "get_db должна выдавать AsyncSession"
        assert one is not two, "get_db должна создавать новую сессию на каждый запрос, а не общую"
        await one.execute(text("SELECT 1"))
        with pytest.raises(StopAsyncIteration):
            await anext(first)
        await second.aclose()
        assert not one.in_transaction(), ("после запроса get_db должна закрывать сессию "
                                          "(async with SessionLocal() as session)")

    _run(database, scenario)


def test_init_db_creates_the_schema_through_engine_begin(database: ModuleType, models: ModuleType,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    engine, init_db = _engine(database), _function(database, "init_db")
    metadata = _metadata(database, models)
    entered: list[AsyncEngine] = []
    original = AsyncEngine.begin

    def spying_begin(self: AsyncEngine) -> Any:
        entered.append(self)
        return original(self)

    async def scenario() -> set[str]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        monkeypatch.setattr(AsyncEngine, "begin", spying_begin)
        await init_db()
        monkeypatch.setattr(AsyncEngine, "begin", original)
        return await _table_names(str(engine.url.render_as_string(hide_password=False)))

    created = _run(database, scenario)
    assert entered, "init_db должна создавать схему внутри async with engine.begin() as conn"
    missing = set(metadata.tables) - created
    assert not missing, f"init_db не создала таблицы {sorted(missing)}"


def _metadata(database: ModuleType, models: ModuleType) -> Any:
    base = getattr(models, "Base", None) or getattr(database, "Base", None)
    if base is None or not getattr(base, "metadata", None) or not base.metadata.tables:
        pytest.fail("в app/models.py нет моделей на Base (class Base(DeclarativeBase) в app/database.py)",
                    pytrace=False)
    return base.metadata


async def _table_names(url: str) -> set[str]:
    """Tables seen through a new engine: only committed DDL is visible there."""
    fresh = create_async_engine(url)
    try:
        async with fresh.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await fresh.dispose()


def test_a_failing_write_rolls_back(database: ModuleType) -> None:
    engine, get_db = _engine(database), _function(database, "get_db")

    async def scenario() -> int:
        await _reset_probe(engine)
        sessions = get_db()
        session = await anext(sessions)
        with contextlib.suppress(WriteFailedError):
            async with session.begin():
                session.add(ProbeNote(body="half-written"))
                await session.flush()
                raise WriteFailedError
        await sessions.aclose()
        async with _sessionmaker(database)() as check:
            return await check.scalar(select(func.count()).select_from(ProbeNote))

    assert _run(database, scenario) == 0, ("неудачная запись не откатилась: пиши в явной транзакции "
                                           "async with session.begin() и не включай AUTOCOMMIT")


def _engine_in_subprocess(url: str) -> dict[str, Any]:
    """The engine app.database builds for a given DATABASE_URL, in a fresh interpreter."""
    probe = (
        "import json, app.database as d\n"
        "from sqlalchemy.ext.asyncio import AsyncEngine\n"
        "e = next(v for v in vars(d).values() if isinstance(v, AsyncEngine))\n"
        "p = e.pool\n"
        "print(json.dumps({'url': e.url.render_as_string(hide_password=False), 'pool': type(p).__name__,"
        " 'pre_ping': getattr(p, '_pre_ping', False), 'recycle': getattr(p, '_recycle', -1),"
        " 'size': p.size() if hasattr(p, 'size') else 0}))\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=_SCRATCH, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.fail(f"app.database не импортируется с DATABASE_URL={url}: {last}", pytrace=False)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_database_url_overrides_the_default() -> None:
    url = f"sqlite+aiosqlite:///{_SCRATCH / 'override.db'}"

    built = _engine_in_subprocess(url)

    assert built["url"] == url, ("DATABASE_URL должна иметь приоритет над адресом по умолчанию, "
                                 f"а движок ведёт на {built['url']}")


def test_asyncpg_url_gets_pool_settings() -> None:
    built = _engine_in_subprocess("postgresql+asyncpg://grader:secret@127.0.0.1:9/lesson")

    assert built["url"].startswith("postgresql+asyncpg://"), "для PostgreSQL нужен драйвер asyncpg"
    assert built["pre_ping"], "для PostgreSQL включи pool_pre_ping=True"
    assert built["recycle"] > 0, "для PostgreSQL задай pool_recycle (в секундах)"
    assert built["size"] >= 1, f"для PostgreSQL нужен пул соединений с pool_size, а не {built['pool']}"


def test_models_migrate_on_postgresql(database: ModuleType, models: ModuleType) -> None:
    url = os.environ.get("GRADER_PG_URL", "")
    if not url:
        pytest.skip("GRADER_PG_URL is not set: no PostgreSQL in this run")
    metadata = _metadata(database, models)
    schema = f"grader_hidden_{uuid.uuid4().hex[:8]}"

    async def scenario() -> set[str]:
        admin = create_async_engine(url)
        scoped = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
        try:
            async with admin.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            async with scoped.begin() as connection:
                await connection.run_sync(metadata.create_all)
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await scoped.dispose()
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.dispose()

    created = asyncio.run(scenario())
    assert set(metadata.tables) <= created, "модели не создаются на PostgreSQL"
