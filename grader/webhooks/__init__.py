"""The webhook edge: verify a GitHub delivery, route it by (event, action), store what must be graded."""
