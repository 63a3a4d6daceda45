"""Request dependencies that come from what the application was built with (`app.state`)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency

from grader.api.parameters import AssignmentFilter
from grader.grading.rubric import RubricSet

GradeBands: TypeAlias = NamedDependency[list[str]]


def provide_grade_bands(state: State, assignment: AssignmentFilter = None) -> list[str]:
    """The grade bands, best first, of the requested assignment's rubric (the configured rubric's
    without one): the order of distributions and grade sorting."""
    rubrics: RubricSet = state.rubrics
    return list(rubrics.for_assignment(assignment).band_names)
