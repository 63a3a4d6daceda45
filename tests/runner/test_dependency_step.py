"""The dependency step's pure parts: the image probe's answer and the step's one-line summary."""

from __future__ import annotations

import pytest

from grader.grading.report import DependencyReport
from grader.runner.dependencies.step import image_info, summary


def test_image_info__normalised_names_and_the_platform_tag() -> None:
    info = image_info({"python": "3.11.2", "machine": "x86_64", "libc": "glibc 2.36",
                       "distributions": {"SQLAlchemy": "2.1.9", "pytest_asyncio": "1.5.0"},
                       "top_level": ["sqlalchemy", "os"], "namespaces": ["opentelemetry"]}, "sha256:x")

    assert (info.python_version, info.platform, info.digest) == ("3.11.2", "x86_64-manylinux_2_36", "sha256:x")
    assert info.distributions == {"sqlalchemy": "2.1.9", "pytest-asyncio": "1.5.0"}
    assert info.top_level == {"sqlalchemy", "os"}
    assert info.namespaces == {"opentelemetry"}


@pytest.mark.parametrize(("report", "line"), [
    (DependencyReport(policy="image"), "the runner image's packages only (the rubric installs nothing else)"),
    (DependencyReport(policy="declared", source="uv.lock", packages=["a==1"] * 23, seconds=0.41, cached=True),
     "23 packages from uv.lock, 0.4 s (cached)"),
    (DependencyReport(policy="declared", source="requirements.txt", packages=["a==1"] * 3, failure="no_wheel",
                      detail="source-only"),
     "3 packages from requirements.txt; not installed: no wheel: source-only"),
    (DependencyReport(policy="declared", source="poetry.lock", failure="over_count", detail="95 > 80"),
     "not installed: over count: 95 > 80"),
    (DependencyReport(policy="declared", source="pyproject.toml"), "nothing to install (from pyproject.toml)"),
    (DependencyReport(policy="declared"), "no manifest declares any"),
])
def test_summary__one_line_for_the_report(report: DependencyReport, line: str) -> None:
    assert summary(report) == line
