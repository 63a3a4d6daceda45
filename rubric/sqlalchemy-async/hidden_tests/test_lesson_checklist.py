"""Hidden checks of the lesson checklist: behaviour of backend/app/database.py and backend/app/models.py.

The student's code never runs in this process. `student_code` (the grader's plugin) starts it in a
process of its own, as the student, where the rubric's probe (`../probe.py`) exercises it and answers
with what it saw; `probe_databases` lets these tests look at the run's PostgreSQL themselves, so what
the student's code did there is checked, not taken on its word. Failure messages are for the student
(in Russian, like the lesson); they never quote this file.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import unquote

import pytest
from grader_hidden_support import ProbeDatabase, StudentCode, StudentCodeError, StudentProcess

LAYOUT = ("expected backend/app/database.py (engine, SessionLocal, get_db, init_db) "
          "and backend/app/models.py, as in the lesson")
NOTES = "public.grader_probe_notes"
PROBLEMS = {
    "no_engine": "в app/database.py нет async engine: создай его через create_async_engine(...)",
    "no_sessionmaker": "в app/database.py нет async_sessionmaker (например SessionLocal = async_sessionmaker(...))",
    "no_models": "в app/models.py нет моделей на Base (class Base(DeclarativeBase) в app/database.py)",
}


def _explain(answer: dict[str, Any]) -> str:
    code, detail = answer.get("problem"), str(answer.get("detail", ""))
    if code == "missing":
        return f"{LAYOUT}: модуль {detail} не найден"
    if code == "broken":
        return f"{detail.split(':', 1)[0]} падает при импорте:{detail.split(':', 1)[-1]}"
    if code == "no_function":
        return f"{LAYOUT}: в app/database.py нет функции {detail}"
    return PROBLEMS.get(str(code), f"проверка не удалась: {code}")


def _call(process: StudentProcess, op: str, **args: Any) -> dict[str, Any]:
    """The probe's answer; a crash, an exit or silence of the student's process fails the check."""
    try:
        answer = process.call(op, **args)
    except StudentCodeError as exc:
        pytest.fail(f"код студента не ответил на проверку ({op}): {exc}", pytrace=False)
    if not isinstance(answer, dict):
        pytest.fail(f"непонятный ответ на проверку {op}", pytrace=False)
    if "problem" in answer:
        pytest.fail(_explain(answer), pytrace=False)
    return answer


def _marker() -> tuple[int, str]:
    return secrets.randbelow(2**31 - 1) + 1, f"grader-{secrets.token_hex(8)}"


def _count(database: ProbeDatabase, body: str) -> int:
    return int(database.value(f"SELECT count(*) FROM {NOTES} WHERE body = :'body'", body=body))


@pytest.fixture(scope="module")
def app_db(probe_databases: dict[str, ProbeDatabase]) -> ProbeDatabase:
    """The database the student's code is pointed at, with the grader's own table of notes in it."""
    database = probe_databases["app"]
    grant = f"GRANT SELECT, INSERT ON {NOTES} TO {database.student_role}" if database.student_role else "SELECT 1"
    database.execute(f"CREATE TABLE IF NOT EXISTS {NOTES} (id bigint PRIMARY KEY, body varchar(64) NOT NULL)", grant)
    return database


@pytest.fixture(scope="module")
def app(student_code: StudentCode, app_db: ProbeDatabase) -> StudentProcess:
    return student_code.start(env={"DATABASE_URL": app_db.student_url})


@pytest.fixture(scope="module")
def described(app: StudentProcess) -> dict[str, Any]:
    return _call(app, "describe")


def _sees_the_database(described: dict[str, Any], database: ProbeDatabase) -> bool:
    """Whether the student's engine uses the grader's database, so its effects can be checked there."""
    engines = described.get("engines") or []
    return bool(engines) and _same_url(str(engines[0].get("url")), database.student_url)


def _same_url(seen: str, given: str) -> bool:
    """SQLAlchemy renders `?host=/pg/run` as `?host=%2Fpg%2Frun`: the same address."""
    return unquote(seen) == unquote(given)


def _first_engine(described: dict[str, Any]) -> dict[str, Any]:
    engines = described.get("engines") or []
    if not engines:
        pytest.fail(PROBLEMS["no_engine"], pytrace=False)
    return engines[0]


def test_database_module_has_the_lesson_layout(described: dict[str, Any]) -> None:
    for name in ("get_db", "init_db"):
        if not described["functions"].get(name):
            pytest.fail(f"{LAYOUT}: в app/database.py нет функции {name}", pytrace=False)
    _first_engine(described)
    if not described.get("makers"):
        pytest.fail(PROBLEMS["no_sessionmaker"], pytrace=False)


def test_engine_and_sessions_are_async_only(described: dict[str, Any]) -> None:
    sync_parts = described.get("sync_parts") or []
    assert not sync_parts, (f"код смешивает sync и async API: {', '.join(sync_parts)[:200]}; "
                            "используй create_async_engine и async_sessionmaker")
    engine, makers = _first_engine(described), described.get("makers") or []
    if not makers:
        pytest.fail(PROBLEMS["no_sessionmaker"], pytrace=False)
    assert makers[0]["async_session"] is True, "async_sessionmaker должен выдавать AsyncSession"
    assert makers[0]["bound_to"] == engine["name"], "async_sessionmaker должен быть привязан к async engine"


def test_attributes_are_readable_after_commit(app: StudentProcess, app_db: ProbeDatabase,
                                              described: dict[str, Any]) -> None:
    note_id, body = _marker()

    answer = _call(app, "commit_and_read", note_id=note_id, body=body)

    assert answer["readable"] is True, ("после commit атрибуты объекта недоступны без нового запроса: "
                                        "укажи expire_on_commit=False в async_sessionmaker")
    if _sees_the_database(described, app_db):
        assert _count(app_db, body) == 1, "после commit записи нет в базе: commit не дошёл до базы"


def test_get_db_yields_one_session_per_call_and_closes_it(app: StudentProcess) -> None:
    answer = _call(app, "get_db_sessions")

    assert answer["generator"] is True, ("get_db должна быть async-генератором: "
                                         "async with SessionLocal() as session: yield session")
    assert answer["async_session"] is True, "get_db должна выдавать AsyncSession"
    assert answer["distinct"] is True, "get_db должна создавать новую сессию на каждый запрос, а не общую"
    assert answer["stops"] is True, "get_db должна выдавать ровно одну сессию на запрос"
    assert answer["closed"] is True, ("после запроса get_db должна закрывать сессию "
                                      "(async with SessionLocal() as session)")


def test_init_db_creates_the_schema_through_engine_begin(app: StudentProcess, app_db: ProbeDatabase,
                                                        described: dict[str, Any]) -> None:
    answer = _call(app, "init_db")

    assert answer["begin_entered"] is True, "init_db должна создавать схему внутри async with engine.begin() as conn"
    missing = set(answer["declared"]) - set(answer["tables"])
    assert not missing, f"init_db не создала таблицы {sorted(missing)}"
    if _sees_the_database(described, app_db):
        unseen = set(answer["declared"]) - app_db.tables()
        assert not unseen, f"init_db не создала таблицы {sorted(unseen)}"


def test_a_failing_write_rolls_back(app: StudentProcess, app_db: ProbeDatabase, described: dict[str, Any]) -> None:
    (control_id, control), (failing_id, failing) = _marker(), _marker()

    answer = _call(app, "failing_write", control_id=control_id, control_body=control, failing_id=failing_id,
                   failing_body=failing)

    rolled_back = answer["failing_rows"] == 0
    if _sees_the_database(described, app_db):
        assert _count(app_db, control) == 1, "запись в явной транзакции через get_db не сохранилась в базе"
        rolled_back = _count(app_db, failing) == 0
    assert rolled_back, ("неудачная запись не откатилась: пиши в явной транзакции "
                         "async with session.begin() и не включай AUTOCOMMIT")


def test_database_url_overrides_the_default(app: StudentProcess, app_db: ProbeDatabase,
                                            described: dict[str, Any]) -> None:
    url = _first_engine(described)["url"]
    assert _same_url(url, app_db.student_url), ("DATABASE_URL должна иметь приоритет над адресом по умолчанию, "
                                       f"а движок ведёт на {url}")
    note_id, body = _marker()
    _call(app, "commit_and_read", note_id=note_id, body=body)
    assert _count(app_db, body) == 1, "движок не пишет в базу из DATABASE_URL"


def test_asyncpg_url_gets_pool_settings(described: dict[str, Any]) -> None:
    engine = _first_engine(described)

    assert engine["url"].startswith("postgresql+asyncpg://"), "для PostgreSQL нужен драйвер asyncpg"
    assert engine["pre_ping"] is True, "для PostgreSQL включи pool_pre_ping=True"
    assert engine["recycle"] > 0, "для PostgreSQL задай pool_recycle (в секундах)"
    assert engine["size"] >= 1, f"для PostgreSQL нужен пул соединений с pool_size, а не {engine['pool']}"


def test_models_migrate_on_postgresql(app: StudentProcess, probe_databases: dict[str, ProbeDatabase]) -> None:
    database = probe_databases["models"]

    answer = _call(app, "create_models", url=database.student_url)

    missing = set(answer["declared"]) - database.tables()
    assert not missing, f"модели не создаются на PostgreSQL: нет таблиц {sorted(missing)}"
