"""The instructors' web dashboard: server-rendered pages over the same data and tokens as `/api`."""
