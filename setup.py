"""Package layout that pyproject.toml alone cannot say. Everything else is in pyproject.toml.

- Every folder of the package ships, also those without an `__init__.py` (the Alembic migrations).
- The repository's rubric/ folder ships inside the package as `grader.rubrics`, so a plain
  `pip install` (the reusable workflow's, the service image's) grades with the same built-in rubrics,
  hidden tests and quiz key as a checkout.
"""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(include=["grader", "grader.*"], exclude=["*.__pycache__"])
setup(packages=[*PACKAGES, "grader.rubrics"], package_dir={"grader.rubrics": "rubric"})
