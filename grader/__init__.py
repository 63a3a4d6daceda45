"""grader: autograding of GitHub pull requests."""

__version__ = "0.1.0"
