"""The roster CSV: every row taken or rejected with its line and reason."""

from __future__ import annotations

import pytest

from grader.course.roster import RosterError, parse_roster


def test_roster__rows_are_taken_or_rejected_with_line_and_reason() -> None:
    text = ("\ufeffGitHub,Student_ID,Name,Email,Group\n"
            "alice,S1,Alice A,alice@example.org,g1\n"
            "bad login,S2,X,,g1\n"
            "bob,S1,Bob,,g2\n"
            "ALICE,S3,Again,,g2\n"
            "carol,,Carol,,g2\n"
            "dave,S4,Dave,not-an-address,g2\n"
            "erin,S5,\"Erin, E\",erin@example.org,g3\n")
    parsed = parse_roster(text)
    assert [(entry.github, entry.student_id, entry.name, entry.line) for entry in parsed.entries] == [
        ("alice", "S1", "Alice A", 2), ("erin", "S5", "Erin, E", 8)]
    assert [(item.line, item.reason) for item in parsed.rejected] == [
        (3, "github 'bad login' is not a GitHub login"),
        (4, "student_id 'S1' is listed twice"),
        (5, "github 'ALICE' is listed twice"),
        (6, "student_id is empty"),
        (7, "email 'not-an-address' is not an address"),
    ]


def test_roster__a_missing_column_rejects_the_file_in_one_line() -> None:
    with pytest.raises(RosterError, match="missing: email"):
        parse_roster("github,student_id,name\nalice,S1,Alice\n")
