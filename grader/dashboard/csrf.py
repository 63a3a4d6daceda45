"""CSRF protection of the dashboard's write forms (regrade, override): a synchronizer token bound to the
session.

Every form carries `csrf_token`, an HMAC of the session cookie's value; a POST is accepted only when the
token matches the cookie it arrives with. A page of another site can make the browser send the cookie
(were it not SameSite=Strict) but cannot read it, nor any page holding the token, so it cannot forge the
field. No server-side state and no secret setting: the cookie is itself an unguessable signed value,
and a new login (a new cookie) ends every token of the old one.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
_PURPOSE = b"grader dashboard csrf v1"


def csrf_token(session_cookie: str) -> str:
    key = hashlib.sha256(session_cookie.encode()).digest()
    return hmac.new(key, _PURPOSE, hashlib.sha256).hexdigest()


def csrf_valid(session_cookie: str | None, submitted: str) -> bool:
    if not session_cookie or not submitted:
        return False
    return hmac.compare_digest(csrf_token(session_cookie), submitted)
