"""The course as a request sees it: which assignment a request names, and its gradebook's scope."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from grader.api.standing_inputs import GradebookScope
from grader.course.config import Assignment, Course
from grader.grading.rubric import RubricSet

NO_COURSE = "There are no assignments: no course file is configured (GRADER_COURSE)."


def find_assignment(course: Course | None, assignment_id: str) -> Assignment:
    """The assignment, or a 404 that lists the course's assignments."""
    if course is None:
        raise NotFoundException(NO_COURSE)
    assignment = course.assignment(assignment_id)
    if assignment is None:
        raise NotFoundException(f"No assignment has id {assignment_id} (the course has "
                                f"{', '.join(course.assignment_ids)}).")
    return assignment


def requested_assignment(course: Course | None, assignment_id: str | None) -> Assignment | None:
    """The `?assignment=` of a request (None when not given)."""
    return find_assignment(course, assignment_id) if assignment_id is not None else None


def scope_of(course: Course | None, rubrics: RubricSet, assignment: Assignment | None,
             repository: str | None = None) -> GradebookScope:
    return GradebookScope(rubric=rubrics.for_assignment(assignment.id if assignment else None),
                          assignment=assignment, repository=repository,
                          policy=course.grade_policy if course else "best")


def assignment_scopes(course: Course | None, rubrics: RubricSet) -> list[GradebookScope]:
    """The gradebook of each assignment of the course (none without a course file)."""
    return [scope_of(course, rubrics, assignment) for assignment in course.assignments] if course else []


def gradebook_scope(state: State, assignment_id: str | None, repository: str | None = None) -> GradebookScope:
    """A gradebook is of one assignment: the requested one, by default the course file's first."""
    course: Course | None = state.settings.course
    if assignment_id is None and course is not None:
        assignment_id = course.assignments[0].id
    return scope_of(course, state.rubrics, requested_assignment(course, assignment_id), repository)
