"""The containerised run: sandbox, in-container harness, report assembly. It runs; it does not grade."""

from grader.runner.run import run_checks

__all__ = ["run_checks"]
