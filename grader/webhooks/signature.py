"""GitHub's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, compared in constant time.

The header is checked for its shape before any of the body is read, and the HMAC is computed piece by
piece while the body streams in, so verifying never needs the whole body in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "sha256="
_HEADER = re.compile(r"sha256=[0-9a-fA-F]{64}")


class SignatureError(ValueError):
    """The delivery is not provably from GitHub; the message says why in one sentence."""


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def claimed_signature(header_sha256: str | None, header_sha1: str | None) -> str:
    """The signature the delivery claims, if it is shaped like one; SignatureError otherwise."""
    if not header_sha256:
        if header_sha1:
            raise SignatureError("Only X-Hub-Signature (SHA-1) was sent; X-Hub-Signature-256 is required.")
        raise SignatureError("The X-Hub-Signature-256 header is missing.")
    claimed = header_sha256.strip()
    if not claimed.startswith(PREFIX):
        raise SignatureError("X-Hub-Signature-256 must start with 'sha256='.")
    if _HEADER.fullmatch(claimed) is None:
        raise SignatureError("X-Hub-Signature-256 must be 'sha256=' and 64 hex digits.")
    return claimed


class BodySignature:
    """The HMAC of a body fed to it in pieces, checked at the end against what the delivery claims."""

    def __init__(self, secret: str, claimed: str) -> None:
        self._claimed = claimed
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def update(self, piece: bytes) -> None:
        self._mac.update(piece)

    def verify(self) -> None:
        if not hmac.compare_digest(PREFIX + self._mac.hexdigest(), self._claimed):
            raise SignatureError("X-Hub-Signature-256 does not match the body; check the webhook secret.")


def verify_signature(secret: str, body: bytes, header_sha256: str | None, header_sha1: str | None) -> None:
    """Raise `SignatureError` unless `header_sha256` is the HMAC of `body` under `secret`."""
    signature = BodySignature(secret, claimed_signature(header_sha256, header_sha1))
    signature.update(body)
    signature.verify()
