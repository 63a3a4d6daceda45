"""`grader roster import`, `grader extension grant` and `grader token create --scope`: one line each,
on a database the command brings up to date itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from grader.cli import main
from grader.db.engine import make_engine
from grader.db.models import ApiToken, Extension, RosterStudent
from grader.settings import DatabaseSettings
from tests.conftest import COURSE_FILE


def _rows(url: str, *columns: Any) -> list[tuple]:
    async def read() -> list[tuple]:
        engine = make_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(select(*columns))]
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/course.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GRADER_COURSE", str(COURSE_FILE))
    return url


def test_roster_import__upserts_and_reports_added_updated_rejected_in_one_line(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "roster.csv"
    first.write_text("github,student_id,name,email\nalice,S1,Alice,alice@example.org\nbob,S2,Bob,\n")
    assert main(["roster", "import", str(first)]) == 0
    assert capsys.readouterr().out == f"{first}: 2 added, 0 updated, 0 unchanged, 0 rejected\n"
    second = tmp_path / "again.csv"
    second.write_text("name,email,github,student_id\nAlice A,alice@example.org,Alice,S1\nBob,,bob,S2\n"
                      "Carol,,carol,S2\nDave,,dave d,S4\n")
    assert main(["roster", "import", str(second)]) == 0
    assert capsys.readouterr().out == (
        f"{second}: 0 added, 1 updated, 1 unchanged, 2 rejected: line 4: student_id 'S2' is listed twice; "
        "line 5: github 'dave d' is not a GitHub login\n")
    assert sorted(_rows(database, RosterStudent.github, RosterStudent.student_id, RosterStudent.name)) == [
        ("Alice", "S1", "Alice A"), ("bob", "S2", "Bob")]


def test_roster_import__a_student_id_of_another_login_is_rejected(database: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("github,student_id,name,email\nalice,S1,Alice,\n")
    main(["roster", "import", str(path)])
    path.write_text("github,student_id,name,email\nmallory,S1,Mallory,\n")
    assert main(["roster", "import", str(path)]) == 0
    assert capsys.readouterr().out.endswith("1 rejected: line 2: student_id 'S1' belongs to alice\n")


def test_roster_import__an_unreadable_file_is_one_line(database: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("login,id\nalice,S1\n")
    assert main(["roster", "import", str(path)]) == 2
    assert capsys.readouterr().err == (f"grader: {path}: the header must name the columns github,student_id,name,"
                                       "email; missing: github, student_id, name, email\n")


def test_extension_grant__stores_the_students_deadline_and_refuses_what_it_cannot_use(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extension", "grant", "hw1", "Bob", "2026-12-12"]) == 0
    assert capsys.readouterr().out == "Bob has until 2026-12-12T23:59:59+03:00 for hw1\n"
    assert main(["extension", "grant", "hw1", "bob", "2026-12-13T12:00:00Z"]) == 0
    [(login_key, until)] = _rows(database, Extension.login_key, Extension.until)
    assert (login_key, until.isoformat()) == ("bob", "2026-12-13T12:00:00+00:00")
    for args, message in [(["hw9", "bob", "2026-12-12"], "no assignment 'hw9'; the course has hw1, hw2"),
                          (["hw1", "bob", "next week"], "UNTIL must be a date-time with a zone"),
                          (["hw1", "bob", "2026-12-12T10:00:00"], "UNTIL must be a date-time with a zone")]:
        assert main(["extension", "grant", *args]) == 2
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1


def test_token_create__read_scope_by_default_write_on_request(database: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "ta"]) == 0
    assert main(["token", "create", "lead", "--scope", "write"]) == 0
    capsys.readouterr()
    assert sorted(_rows(database, ApiToken.name, ApiToken.scope)) == [("lead", "write"), ("ta", "read")]
