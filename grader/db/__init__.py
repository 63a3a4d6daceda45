"""The service's database: engine, models, migrations and the retry policy."""
