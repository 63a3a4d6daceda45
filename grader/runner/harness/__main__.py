"""Entry point inside the runner image: `python -I -B -m harness` with /opt/grader on sys.path."""

from .main import main

raise SystemExit(main())
