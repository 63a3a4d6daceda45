"""The course file: read once at start, every problem one line naming the file and the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.course.config import CourseError, load_course, parse_moment
from grader.course.matching import match_repository
from grader.grading.rubric_loader import RubricError, load_rubric_set
from grader.settings import SettingsError, load_settings
from tests.conftest import COURSE_FILE, make_settings, sample_course

GOOD = """
[course]
id = "c"
[[assignments]]
id = "hw1"
title = "One"
rubric = "r.toml"
repositories = ["org/hw1-*"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


def test_course__the_sample_file_reads_with_its_deadlines_and_policy() -> None:
    course = sample_course()
    hw1, hw2 = course.assignments
    assert (course.id, course.grade_policy, course.language) == ("db-course-2026", "best", "en")
    assert hw1.deadline == datetime(2026, 12, 10, 20, 59, tzinfo=UTC)
    assert (hw1.late_penalty_percent_per_day, hw1.max_late_days) == (10.0, 3)
    assert (hw2.late_penalty_percent_per_day, hw2.max_late_days) == (0.0, None)
    assert hw2.rubric_path == COURSE_FILE.parent / "pass-fail.toml"


@pytest.mark.parametrize(("change", "named"), [
    (('id = "c"', 'id = "bad id!"'), "course.id"),
    (('title = "One"', ""), "assignments[0].title"),
    (('repositories = ["org/hw1-*"]', 'repositories = []'), "assignments[0].repositories"),
    (('repositories = ["org/hw1-*"]', 'repositories = ["no-slash"]'), "assignments[0].repositories"),
    (('rubric = "r.toml"', 'rubric = "r.toml"\ndeadline = "2026-12-10T23:59:00"'), "assignments[0].deadline"),
    (('rubric = "r.toml"', 'rubric = "r.toml"\ndeadline = "tomorrow"'), "assignments[0].deadline"),
    (('rubric = "r.toml"', 'rubric = "r.toml"\nmax_late_days = -1'), "assignments[0].max_late_days"),
    (('rubric = "r.toml"', 'rubric = "r.toml"\nlate_penalty_percent_per_day = "ten"'),
     "assignments[0].late_penalty_percent_per_day"),
    (('id = "c"', 'id = "c"\ngrade_policy = "median"'), "course.grade_policy"),
    (('[course]', '[courses]'), "course"),
])
def test_course__a_bad_key_is_one_line_naming_it(tmp_path: Path, change: tuple[str, str], named: str) -> None:
    with pytest.raises(CourseError) as raised:
        load_course(write(tmp_path, GOOD.replace(*change)))
    message = str(raised.value)
    assert named in message
    assert str(tmp_path) in message
    assert "\n" not in message


def test_course__two_assignments_cannot_claim_the_same_pattern_or_id(tmp_path: Path) -> None:
    twice = GOOD + GOOD.split("[course]\nid = \"c\"")[1].replace('id = "hw1"', 'id = "hw2"')
    with pytest.raises(CourseError, match="a repository belongs to one assignment"):
        load_course(write(tmp_path, twice))
    with pytest.raises(CourseError, match="has the id 'hw1' more than once"):
        load_course(write(tmp_path, twice.replace('id = "hw2"', 'id = "hw1"').replace("org/hw1-*", "org/x", 1)))


def test_settings__grader_course_unset_keeps_one_rubric_and_a_broken_file_stops_start_up(tmp_path: Path) -> None:
    assert load_settings({}).course is None
    with pytest.raises(SettingsError) as raised:
        load_settings({"GRADER_COURSE": str(tmp_path / "missing.toml")})
    assert str(raised.value).startswith("GRADER_COURSE ")
    assert "cannot be read" in str(raised.value)


def test_rubric_set__every_assignment_gets_its_rubric_and_a_broken_one_names_the_assignment(tmp_path: Path) -> None:
    rubrics = load_rubric_set(make_settings(course=sample_course()))
    assert rubrics.for_assignment("hw1").band_names == ["S", "A", "B", "C"]
    assert rubrics.for_assignment("hw2").band_names == ["pass", "fail"]
    assert rubrics.for_assignment(None) is rubrics.default
    broken = load_course(write(tmp_path, GOOD))
    with pytest.raises(RubricError) as raised:
        load_rubric_set(make_settings(course=broken))
    assert str(raised.value).startswith("assignment hw1: ")
    assert "\n" not in str(raised.value)


def test_matching__glob_over_owner_and_name_case_insensitive_one_assignment_only(tmp_path: Path) -> None:
    course = sample_course()
    assert match_repository(course, "course-org/hw1-alice").assignment_id == "hw1"
    assert match_repository(course, "COURSE-ORG/HW1-Bob").assignment_id == "hw1"
    assert match_repository(course, "course-org/extra-hw2").assignment_id == "hw2"
    unmatched = match_repository(course, "course-org/hw3-alice")
    assert unmatched.assignment_id is None
    assert unmatched.reason == "course-org/hw3-alice matches no assignment of course db-course-2026"
    overlapping = load_course(write(tmp_path, GOOD + GOOD.split('id = "c"')[1].replace(
        'id = "hw1"', 'id = "hw2"').replace("org/hw1-*", "org/*")))
    both = match_repository(overlapping, "org/hw1-x")
    assert both.assignment_id is None
    assert "more than one assignment (hw1, hw2)" in both.reason


def test_parse_moment__needs_a_zone_and_a_date_is_the_end_of_that_day_in_the_deadlines_zone() -> None:
    moscow = datetime(2026, 12, 10, 23, 59, tzinfo=timezone(timedelta(hours=3)))
    assert parse_moment("2026-12-12", end_of_day_offset=moscow) == datetime(
        2026, 12, 12, 23, 59, 59, tzinfo=timezone(timedelta(hours=3)))
    assert parse_moment("2026-12-12T10:00:00Z") == datetime(2026, 12, 12, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):
        parse_moment("2026-12-12T10:00:00")
