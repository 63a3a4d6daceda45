"""An OIDC issuer for tests: RSA keys made here, a JWKS served over real HTTP, tokens signed on demand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grader.workflow_reports.settings import OidcSettings

AUDIENCE = "https://grader.example.test"
WORKFLOW_REF = "course/grader/.github/workflows/grade.yml@refs/tags/v1"
REPOSITORY = "course-2026/alice-sqlalchemy"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    """Serves `/.well-known/jwks` and counts how often it was fetched."""

    url: str
    key: rsa.RSAPrivateKey
    kid: str = "key-1"
    fetches: int = 0
    extra_claims: dict[str, Any] = field(default_factory=dict)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300,
            "repository": REPOSITORY, "repository_id": "4242", "repository_owner": "course-2026",
            "job_workflow_ref": WORKFLOW_REF, "ref": "refs/pull/7/merge", "event_name": "pull_request",
            "actor": "alice", "run_id": "99", "sub": f"repo:{REPOSITORY}:pull_request",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **overrides: Any) -> str:
        return jwt.encode(self.claims(**overrides), key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def settings(self, **overrides: Any) -> OidcSettings:
        values: dict[str, Any] = {"audience": AUDIENCE, "issuer": self.url,
                                  "jwks_url": f"{self.url}/.well-known/jwks",
                                  "workflow_refs": (WORKFLOW_REF,), "repositories": ("course-2026/*",)}
        values.update(overrides)
        return OidcSettings(**values)


def _handler(issuer_box: list[Issuer]) -> type[BaseHTTPRequestHandler]:
    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = issuer_box[0]
            if self.path != "/.well-known/jwks":
                self.send_error(404)
                return
            issuer.fetches += 1
            body = json.dumps(issuer.jwks()).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return JwksHandler


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return _private_key()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return _private_key()


@pytest.fixture
def issuer(signing_key: rsa.RSAPrivateKey) -> Iterator[Issuer]:
    box: list[Issuer] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    box.append(Issuer(url=f"http://127.0.0.1:{server.server_port}", key=signing_key))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
