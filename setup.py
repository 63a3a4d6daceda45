"""Package layout that pyproject.toml alone cannot say: the repository's rubric/ folder ships inside the
package as `grader.rubrics`, so a plain `pip install` (the reusable workflow's) grades with the same
built-in rubrics, hidden tests and quiz key as a checkout. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["grader*"]), "grader.rubrics"], package_dir={"grader.rubrics": "rubric"})
