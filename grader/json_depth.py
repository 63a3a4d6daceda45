"""How deeply a JSON document nests, measured before it is parsed.

A parser recurses once per level, so a signed body of 100,000 opening brackets would exhaust the stack
(a RecursionError, i.e. a 500) instead of being refused. The measure runs at C speed, without a
Python step per character: escaped backslashes and quotes are dropped (they cannot end a string),
everything but quotes and brackets is dropped, the brackets between quotes (inside strings) are cut
out, and the running depth of what is left is summed. Until the first error the parser reads a body
the same way, so what it would recurse into is never deeper than measured.
"""

from __future__ import annotations

from array import array
from itertools import accumulate

_BRACKETS = b"[]{}"
_DROP = bytes(byte for byte in range(256) if byte not in b'"' + _BRACKETS)
# Openers become +1 and closers -1 as signed bytes.
_AS_STEPS = bytes.maketrans(_BRACKETS, b"\x01\xff\x01\xff")


class JsonTooDeepError(ValueError):
    """The document nests deeper than allowed; the message says how deep it may go."""


def _outside_strings(body: bytes) -> bytes:
    """The brackets of `body` that are not inside a string."""
    if b"\\" in body:
        # Pairs first, left to right: in `\\\"` the first two are one escaped backslash.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Two adjacent quotes are an empty string or the seam between two strings: removing them keeps
    # every bracket on its side, and leaves few pieces to split.
    quotes_and_brackets = body.translate(None, _DROP).replace(b'""', b"")
    return b"".join(quotes_and_brackets.split(b'"')[::2])


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body` (0 for a scalar)."""
    brackets = _outside_strings(body)
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.translate(_AS_STEPS)))))


def check_json_depth(body: bytes, limit: int) -> None:
    if json_depth(body) > limit:
        raise JsonTooDeepError(f"The JSON body nests deeper than {limit} levels.")
