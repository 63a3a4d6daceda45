"""`grader token create|revoke NAME`: printed once, stored hashed, revocable, names unique."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from grader.cli import main
from grader.db.engine import make_engine
from grader.db.models import ApiToken
from grader.settings import DatabaseSettings


def _stored_tokens(url: str) -> list[tuple[str, str, bool]]:
    async def read() -> list[tuple[str, str, bool]]:
        engine = make_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(ApiToken.name, ApiToken.token_hash, ApiToken.revoked_at))
                return [(name, token_hash, revoked is not None) for name, token_hash, revoked in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database file that does not exist yet: the command must create the schema itself."""
    url = f"sqlite+aiosqlite:///{tmp_path}/tokens.db"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_token_create__prints_the_token_once_and_stores_only_its_hash(
        fresh_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "ta-alice"]) == 0
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("grd_")
    assert len(raw) > 40
    [(name, token_hash, revoked)] = _stored_tokens(fresh_database)
    assert (name, revoked) == ("ta-alice", False)
    assert token_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_token_create__a_taken_name_is_a_one_line_error(fresh_database: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "ta"]) == 0
    capsys.readouterr()
    assert main(["token", "create", "ta"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("grader: a token named 'ta' already exists (revoked names stay taken); "
                            "pick another name\n")


def test_token_revoke__marks_it_revoked_and_rejects_unknown_names(fresh_database: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "ta"]) == 0
    assert main(["token", "revoke", "ta"]) == 0
    assert [revoked for _, _, revoked in _stored_tokens(fresh_database)] == [True]
    capsys.readouterr()
    assert main(["token", "revoke", "ta"]) == 2
    assert capsys.readouterr().err == "grader: no active token is named 'ta'\n"
