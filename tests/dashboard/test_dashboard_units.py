"""Dashboard pieces without a browser: the signed session cookie, sorting, the chart, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from grader.api.dto import GradebookRow, GradeCount
from grader.api.tokens import find_active_token
from grader.app import create_app
from grader.dashboard.charts import BEST, BETWEEN, LOWEST, band_colours, grade_distribution_svg
from grader.dashboard.session import COOKIE_NAME, session_cookie_value, verified_token_id
from grader.dashboard.table import sort_rows
from grader.grading.result import CheckGrade, Remediation
from grader.settings import SessionSettings, Settings
from tests.api import factories
from tests.conftest import SESSION_SECRET, shipped_rubric
from tests.dashboard.forms import log_in, log_out
from tests.feedback.factories import BANDS

Sessionmaker = async_sessionmaker[AsyncSession]
WHEN = datetime(2026, 3, 2, tzinfo=UTC)


SESSION = SessionSettings(secret=SESSION_SECRET)


async def test_session_cookie__valid_until_expiry_and_never_when_forged(sessionmaker: Sessionmaker) -> None:
    raw = await factories.token(sessionmaker)
    async with sessionmaker() as session:
        token = await find_active_token(session, raw)
        assert token is not None
        cookie = session_cookie_value(SESSION, token, now=1_000_000)
        token_id, expires, signature = cookie.split(".")
        assert await verified_token_id(session, SESSION, cookie, now=1_000_001) == token.id
        assert await verified_token_id(session, SESSION, cookie, now=float(expires) + 1) is None
        later = f"{token_id}.{int(expires) + 3600}.{signature}"
        assert await verified_token_id(session, SESSION, later, now=1_000_001) is None
        forged = f"{token_id}.{expires}.{'0' * 64}"
        assert await verified_token_id(session, SESSION, forged, now=1_000_001) is None
        assert await verified_token_id(session, SESSION, "garbage", now=1_000_001) is None


def _row(student: str, score: float | None, grade: str | None) -> GradebookRow:
    return GradebookRow(student=student, student_id=None, name=None, email=None, on_roster=False,
                        status="graded" if grade else "pending", score=score, grade=grade, late_days=0,
                        overridden=False, score_at_deadline=score, grade_at_deadline=grade, latest_grade=grade,
                        latest_score=score, best_grade=grade, best_score=score, attempts=1, last_activity=WHEN)


def test_sort_rows__grades_rank_and_empty_cells_go_last() -> None:
    rows = [_row("c", 50, "C"), _row("none", None, None), _row("s", 95, "S"), _row("a", 85, "A")]

    def order(column: str, descending: bool) -> list[str]:
        return [row.student for row in sort_rows(rows, column, descending=descending, bands=BANDS)]

    assert order("grade", descending=True) == ["s", "a", "c", "none"]
    assert order("grade", descending=False) == ["c", "a", "s", "none"]
    assert order("latest_score", descending=False) == ["c", "a", "s", "none"]
    assert order("no-such-column", descending=False) == ["a", "c", "none", "s"]


def test_chart__bar_heights_follow_counts_and_label_says_them() -> None:
    svg = grade_distribution_svg([GradeCount(grade="S", students=4), GradeCount(grade="C", students=2)], BANDS)
    assert 'aria-label="Grade distribution: S 4, C 2"' in svg
    assert 'data-grade="S" data-students="4"><rect x="37.2" y="24" width="117.6" height="148"' in svg
    assert 'data-grade="C" data-students="2"><rect x="205.2" y="98" width="117.6" height="74"' in svg


def test_chart__colours_go_from_the_best_band_to_the_lowest_of_any_band_set() -> None:
    assert band_colours(BANDS) == {"S": BEST, "A": BETWEEN[0], "B": BETWEEN[2], "C": LOWEST}
    assert band_colours(["pass", "fail"]) == {"pass": BEST, "fail": LOWEST}


def test_sort_rows__grades_follow_the_rubrics_band_order() -> None:
    rows = [_row("f", 40, "fail"), _row("p", 95, "pass")]
    assert [row.student for row in sort_rows(rows, "grade", descending=True, bands=["pass", "fail"])] == [
        "p", "f"]


async def test_submission_page__escapes_student_text_and_drops_script_links(
        settings: Settings, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "mallory", failing=None)
        row = await factories.result(session, sub, advisory=True)
        report = dict(row.report)
        evil = CheckGrade(id="x", title="<script>alert(1)</script>", passed=False, points=0, max_points=10,
                          summary="s", remediation=[Remediation(title="click", url="javascript:alert(1)")])
        report["checks"] = [*report["checks"], msgspec.to_builtins(evil)]
        row.report = report
    raw = await factories.token(sessionmaker)
    async with AsyncTestClient(create_app(settings, shipped_rubric(), workers=False)) as client:
        login = await log_in(client, raw)
        assert login.status_code == 303
        assert COOKIE_NAME in login.headers["set-cookie"]
        assert "HttpOnly" in login.headers["set-cookie"]
        page = await client.get(f"/dashboard/submissions/{sub.id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "javascript:" not in page.text
    assert 'id="advisory-flag"' in page.text


async def test_submission_page__lists_tamper_findings_and_marks_checks_for_review(
        settings: Settings, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        sub = await factories.submission(session, "trudy", failing=None)
        await factories.result(session, sub, tamper=[factories.TAMPERED])
    raw = await factories.token(sessionmaker)
    async with AsyncTestClient(create_app(settings, shipped_rubric(), workers=False)) as client:
        await log_in(client, raw)
        page = await client.get(f"/dashboard/submissions/{sub.id}")
    assert page.status_code == 200
    assert 'data-check="tests" data-passed="false"\n        data-needs-review="true"' in page.text
    assert '<tr data-kind="coverage_api"><td><code>backend/tests/test_items.py</code></td>' in page.text
    assert "imports coverage.py" in page.text


async def test_pages__login_required_then_gradebook_student_and_404(settings: Settings,
                                                                   sessionmaker: Sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await factories.submission(session, "alice", failing=("tests",))
        await factories.submission(session, "bob", number=2)
    raw = await factories.token(sessionmaker)
    async with AsyncTestClient(create_app(settings, shipped_rubric(), workers=False)) as client:
        assert (await client.get("/dashboard/", follow_redirects=False)).headers["location"] == "/dashboard/login"
        rejected = await log_in(client, "grd_nope")
        assert rejected.status_code == 401
        assert "not valid" in rejected.text
        await log_in(client, raw)
        book = await client.get("/dashboard/", params={"sort": "score", "order": "desc"})
        assert book.text.index('data-student="bob"') < book.text.index('data-student="alice"')
        assert 'aria-sort="descending"' in book.text
        student = await client.get("/dashboard/students/alice")
        assert "Your tests pass" not in student.text
        assert "course/lesson-1" in student.text
        missing = await client.get("/dashboard/students/nobody")
        assert missing.status_code == 404
        assert "No submission is by nobody." in missing.text
        logout = await log_out(client)
        assert logout.headers["location"] == "/dashboard/login"
        assert (await client.get("/dashboard/", follow_redirects=False)).status_code == 303


async def test_root__redirects_to_the_dashboard(settings: Settings, sessionmaker: Sessionmaker) -> None:
    async with AsyncTestClient(create_app(settings, shipped_rubric(), workers=False)) as client:
        response = await client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (302, "/dashboard")
