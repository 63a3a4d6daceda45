"""The instructor REST API under `/api`: bearer tokens, typed DTOs, constant-query list endpoints."""
