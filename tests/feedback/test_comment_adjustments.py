"""The comment says why the grade is not what the checks gave: the instructor set it, or the push was late."""

from __future__ import annotations

import pytest

from grader.feedback.comment import CommentContext, render_comment
from grader.grading.result import InstructorOverride, LatePenalty
from grader.texts import texts_for
from tests.feedback.factories import failing_result

LATE = LatePenalty(days=2, percent=20.0, deadline="2026-12-10T23:59:00+03:00", score_before=70.0)
OVERRIDE = InstructorOverride(score=85.0, grade="A", note="runner was down @octocat </details>", by="ta",
                              at="2026-12-11T10:00:00+00:00", score_before=40.0)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_comment__late_push_shows_the_deadline_the_penalty_and_no_way_to_the_next_grade(language: str) -> None:
    result = failing_result(language)
    result.late, result.score, result.grade, result.next_grade = LATE, 56.0, "C", None
    body = render_comment(result, CommentContext())
    notice = texts_for(language).late_notice.format(days=2, deadline="2026-12-10 23:59+03:00", percent="20",
                                                     before="70", score="56")
    assert notice in body
    assert body.index(notice) < body.index("|")  # on the first screen, above the table
    assert texts_for(language).to_next_grade.split("{")[0] not in body


@pytest.mark.parametrize("language", ["en", "ru"])
def test_comment__override_says_the_instructor_set_the_grade_with_the_note_escaped(language: str) -> None:
    result = failing_result(language)
    result.override, result.score, result.grade = OVERRIDE, 85.0, "A"
    body = render_comment(result, CommentContext())
    texts = texts_for(language)
    assert texts.override_notice.format(grade="A", score="85", before="40") in body
    assert texts.override_note.split("{")[0] in body
    assert "@octocat" not in body
    assert "</details> " not in body.split("<details>")[0]
