"""The containerised grading run: sandbox, in-container harness, report assembly, `grader check`."""

from grader.runner.run import grade_checkout, run_checks

__all__ = ["grade_checkout", "run_checks"]
