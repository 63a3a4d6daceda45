"""Dialect-specific SQL the service needs on both of its databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect_name: str) -> Callable[..., Any]:
    """The `insert` construct with ON CONFLICT support of the dialect (PostgreSQL or SQLite)."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert
