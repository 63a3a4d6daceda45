"""GitHub's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


class SignatureError(ValueError):
    """The delivery is not provably from GitHub; the message says why in one sentence."""


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header_sha256: str | None, header_sha1: str | None) -> None:
    """Raise `SignatureError` unless `header_sha256` is the HMAC of `body` under `secret`."""
    if not header_sha256:
        if header_sha1:
            raise SignatureError("Only X-Hub-Signature (SHA-1) was sent; X-Hub-Signature-256 is required.")
        raise SignatureError("The X-Hub-Signature-256 header is missing.")
    if not header_sha256.startswith(PREFIX):
        raise SignatureError("X-Hub-Signature-256 must start with 'sha256='.")
    if not hmac.compare_digest(sign(secret, body), header_sha256.strip()):
        raise SignatureError("X-Hub-Signature-256 does not match the body; check the webhook secret.")
