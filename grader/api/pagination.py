"""Opaque keyset cursors: a page ends at an id, the next page starts below it.

Keyset (not offset) pagination keeps every page one index range scan, however deep the client pages,
and never skips or repeats a row when new submissions arrive between two requests.
"""

from __future__ import annotations

import base64
import binascii

from litestar.exceptions import ValidationException

_PREFIX = "id:"


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues below; a cursor not made by `encode_cursor` is a 400."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(_PREFIX) and text[len(_PREFIX):].isdigit():
            return int(text[len(_PREFIX):])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ValidationException(extra=[{"key": "cursor", "source": "query"}])
