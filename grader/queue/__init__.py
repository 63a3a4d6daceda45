"""The durable job queue in the service's database, and the workers that drain it."""
