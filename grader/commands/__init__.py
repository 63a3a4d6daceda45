"""The `grader` commands, one module per command group, each `(args, settings) -> exit status`."""
