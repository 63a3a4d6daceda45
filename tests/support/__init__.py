"""Helpers shared by the tests: signed deliveries, processes of the service, test job processors."""
