"""The rubric's hidden tests pass on a correct reference solution and fail, precisely, on broken ones.

Each variant is the reference with one mistake from the lesson's troubleshooting list; the hidden
tests run the way the runner runs them (tests/support/hidden_runner.py): the student's code in
processes of its own, driven through the rubric's probe, and the run's PostgreSQL checked directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.hidden_runner import probe_databases, run_hidden_tests

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
HIDDEN_TESTS = ROOT / "rubric" / "sqlalchemy-async" / "hidden_tests"
PROBE = ROOT / "rubric" / "sqlalchemy-async" / "probe.py"
REFERENCE = Path(__file__).parent / "reference_submission"
CLEAN_FIXTURE = ROOT / "tests" / "fixtures" / "submissions" / "clean" / "backend"
ALL_TESTS = {
    "test_database_module_has_the_lesson_layout", "test_engine_and_sessions_are_async_only",
    "test_attributes_are_readable_after_commit", "test_get_db_yields_one_session_per_call_and_closes_it",
    "test_init_db_creates_the_schema_through_engine_begin", "test_a_failing_write_rolls_back",
    "test_database_url_overrides_the_default", "test_asyncpg_url_gets_pool_settings",
    "test_models_migrate_on_postgresql",
}


@dataclass(frozen=True)
class Outcome:
    passed: set[str]
    failed: dict[str, str]  # test name -> failure message (skipped and errored count as failed)


def _edit(old: str, new: str) -> Callable[[str], str]:
    def apply(source: str) -> str:
        assert old in source, f"the reference no longer contains {old!r}"
        return source.replace(old, new)

    return apply


GET_DB_BODY = "    async with SessionLocal() as session:\n        yield session"
INIT_DB_BODY = "    async with engine.begin() as conn:\n"
ASYNC_ENGINE = "engine = create_async_engine("
SKIP_AT_IMPORT = "import pytest\n\npytest.skip('x', allow_module_level=True)\n"
SYNC_ENGINE = "from sqlalchemy import create_engine\nsync_engine = create_engine('sqlite://')\n" + ASYNC_ENGINE
VARIANTS: dict[str, tuple[Callable[[str], str], set[str]]] = {
    "mixes_a_sync_engine": (_edit(ASYNC_ENGINE, SYNC_ENGINE),
                            {"test_engine_and_sessions_are_async_only"}),
    "expires_on_commit": (_edit("expire_on_commit=False", "expire_on_commit=True"),
                          {"test_attributes_are_readable_after_commit"}),
    "shares_one_session": (_edit(GET_DB_BODY, "    yield _shared\n\n\n_shared = SessionLocal()"),
                           {"test_get_db_yields_one_session_per_call_and_closes_it"}),
    "never_closes_the_session": (_edit(GET_DB_BODY, "    session = SessionLocal()\n    yield session"),
                                 {"test_get_db_yields_one_session_per_call_and_closes_it"}),
    "creates_schema_without_begin": (_edit(INIT_DB_BODY, INIT_DB_BODY.replace("begin", "connect")),
                                     {"test_init_db_creates_the_schema_through_engine_begin"}),
    "autocommits": (_edit("echo=False,", "echo=False, isolation_level='AUTOCOMMIT',"),
                    {"test_a_failing_write_rolls_back"}),
    "ignores_database_url": (_edit('os.getenv("DATABASE_URL", DEFAULT_DATABASE_URL)', "DEFAULT_DATABASE_URL"),
                             {"test_database_url_overrides_the_default",
                              "test_asyncpg_url_gets_pool_settings"}),
    "has_no_pool_settings": (_edit('"pool_pre_ping": True, "pool_recycle": 1800, ', ""),
                             {"test_asyncpg_url_gets_pool_settings"}),
    # Generic tricks from the student's side: each ends or derails the student's process, never a verdict.
    "exits_at_import": (_edit("import os\n", "import os\n\nos._exit(0)\n"), ALL_TESTS),
    "skips_at_import": (_edit("import os\n", f"import os\n\n{SKIP_AT_IMPORT}"), ALL_TESTS),
    "exits_in_get_db": (_edit(GET_DB_BODY, "    raise SystemExit(0)\n    yield"),
                        {"test_get_db_yields_one_session_per_call_and_closes_it", "test_a_failing_write_rolls_back"}),
}


def run_variant(backend: Path, workdir: Path, server_url: str) -> Outcome:
    with probe_databases(server_url) as databases:
        verdicts = run_hidden_tests(HIDDEN_TESTS, PROBE, backend, workdir, databases)
    return Outcome(passed={case.id for case in verdicts if case.outcome == "passed"},
                   failed={case.id: case.message for case in verdicts if case.outcome != "passed"})


def _variant_backend(root: Path, name: str) -> Path:
    backend = root / name / "backend"
    shutil.copytree(REFERENCE / "backend", backend)
    if name in VARIANTS:
        database = backend / "app" / "database.py"
        database.write_text(VARIANTS[name][0](database.read_text()))
    return backend


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> dict[str, Outcome]:
    """Every variant's outcome, run in parallel to keep the suite fast."""
    root = tmp_path_factory.mktemp("hidden")
    names = ["reference", *VARIANTS]
    backends = {name: _variant_backend(root, name) for name in names}
    empty = root / "wrong_layout" / "backend"
    (empty / "src").mkdir(parents=True)
    backends["wrong_layout"] = empty
    if CLEAN_FIXTURE.is_dir():
        backends["clean_fixture"] = shutil.copytree(CLEAN_FIXTURE, root / "clean_fixture" / "backend")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_variant, backend, backend.parent, postgres_url)
                   for name, backend in backends.items()}
    return {name: future.result() for name, future in futures.items()}


def test_hidden_tests__the_reference_solution_passes(outcomes: dict[str, Outcome]) -> None:
    reference = outcomes["reference"]

    assert reference.failed == {}
    assert reference.passed == ALL_TESTS


def test_hidden_tests__the_runners_clean_fixture_passes(outcomes: dict[str, Outcome]) -> None:
    if "clean_fixture" not in outcomes:
        pytest.skip("tests/fixtures/submissions/clean is not in this checkout")

    assert outcomes["clean_fixture"].failed == {}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hidden_tests__each_broken_variant_fails_exactly_its_check(outcomes: dict[str, Outcome],
                                                                   variant: str) -> None:
    assert set(outcomes[variant].failed) == VARIANTS[variant][1]


def test_hidden_tests__a_different_layout_fails_clearly_not_with_a_crash(
        outcomes: dict[str, Outcome]) -> None:
    wrong = outcomes["wrong_layout"]

    assert set(wrong.failed) == ALL_TESTS
    assert all("expected backend/app/database.py" in message or "app.database" in message
               for message in wrong.failed.values())
    assert "expected backend/app/database.py" in wrong.failed["test_database_module_has_the_lesson_layout"]
