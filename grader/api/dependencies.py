"""Request dependencies that come from what the application was built with (`app.state`)."""

from __future__ import annotations

from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency

GradeBands: TypeAlias = NamedDependency[list[str]]


def provide_grade_bands(state: State) -> list[str]:
    """The rubric's grade bands, best first: the order of distributions and grade sorting."""
    return list(state.rubric.band_names)
