"""Grading on GitHub's runners: the workflow's own commands and the service's advisory-report intake.

A run of the reusable workflow happens in a repository the student controls, so what it sends is
verified for where it came from (a GitHub OIDC token) and then stored as advice, never as the
service's own verdict.
"""
