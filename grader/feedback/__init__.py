"""What a student reads: the PR comment and the check-run summary, rendered from a `GradeResult`.

Pure functions of data; nothing here talks to GitHub.
"""
