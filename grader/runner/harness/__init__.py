"""The in-container harness: runs the checks on a submission and streams JSON events on stdout.

It is copied into the runner image (`/opt/grader/harness`) and runs there as uid 0 with only the
CHOWN, SETUID, SETGID and KILL capabilities; everything the student wrote runs as `student` (the
student's own steps) or `hidden` (the hidden tests), never as the harness. Standard library only,
Python 3.11 compatible, because it runs on the image's interpreter.
"""
