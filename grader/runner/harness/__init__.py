"""The in-container harness: runs the checks on a submission and streams JSON events on stdout.

It is copied into the runner image (`/opt/grader/harness`) and runs there as uid 0 with only the
CHOWN, SETUID, SETGID and KILL capabilities; everything the student wrote runs as `student` (the
student's own steps, and the student's side of the hidden checks, started by the broker), the hidden
tests run as `hidden` in processes that never run the student's code, never as the harness. Standard
library only (the pytest plugins and the probe client run in the image's venv), Python 3.11
compatible, because it runs on the image's interpreter.
"""
