"""Error types shared across the package: each message is one line a user can act on."""

from __future__ import annotations


class CommandError(Exception):
    """A command could not do its job; the message is the one line shown to the user."""
