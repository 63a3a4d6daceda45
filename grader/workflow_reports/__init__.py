"""The service's intake of reusable-workflow reports.

A run of the reusable workflow happens in a repository the student controls, so what it sends is
verified for where it came from (a GitHub OIDC token) and then stored as advice, never as the
service's own verdict. The workflow's own side is `grader.actions` and `grader.commands.workflow`.
"""
