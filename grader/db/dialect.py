"""Dialect-specific SQL the service needs on both of its databases."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect_name: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` with the dialect's ON CONFLICT support (PostgreSQL or SQLite)."""
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
