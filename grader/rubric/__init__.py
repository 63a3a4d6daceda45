"""Rubrics: the TOML file of an assignment, loaded and validated into frozen data."""

from grader.rubric.loader import RubricError, default_rubric_path, load_rubric
from grader.rubric.model import Check, LintRules, QuizSpec, Rubric, Section

__all__ = ["Check", "LintRules", "QuizSpec", "Rubric", "RubricError", "Section", "default_rubric_path",
           "load_rubric"]
