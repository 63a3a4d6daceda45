"""An OIDC issuer for tests: RSA keys made here, a JWKS served over real HTTP, tokens signed on demand.

It also plays the GitHub Actions token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`), so a workflow step
can ask it for a token exactly as it asks GitHub.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grader.settings import OidcSettings

AUDIENCE = "https://grader.example.test"
WORKFLOW_REF = "course/grader/.github/workflows/grade.yml@refs/tags/v1"
REPOSITORY = "course-2026/alice-sqlalchemy"
ACTIONS_REQUEST_TOKEN = "actions-runtime-token"


def make_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    """Serves `/.well-known/jwks` (counting fetches) and `/actions-token?audience=…`."""

    url: str
    key: rsa.RSAPrivateKey
    kid: str = "key-1"
    fetches: int = 0
    run_claims: dict[str, Any] = field(default_factory=dict)  # what the Actions endpoint puts in tokens

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

    def service_env(self) -> dict[str, str]:
        """The GRADER_OIDC_* variables of a service that trusts this issuer."""
        return {"GRADER_OIDC_AUDIENCE": AUDIENCE, "GRADER_OIDC_ISSUER": self.url,
                "GRADER_OIDC_WORKFLOW_REF": WORKFLOW_REF, "GRADER_OIDC_REPOSITORIES": "course-2026/*"}

    def actions_env(self) -> dict[str, str]:
        """What the Actions runtime gives a job that has `id-token: write`."""
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/actions-token?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ACTIONS_REQUEST_TOKEN}


def _handler(issuer_box: list[Issuer]) -> type[BaseHTTPRequestHandler]:
    class IssuerHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer, url = issuer_box[0], urlsplit(self.path)
            if url.path == "/.well-known/jwks":
                issuer.fetches += 1
                self._json(200, issuer.jwks())
            elif url.path == "/actions-token":
                self._actions_token(issuer, parse_qs(url.query))
            else:
                self._json(404, {"message": "Not Found"})

        def _actions_token(self, issuer: Issuer, query: dict[str, list[str]]) -> None:
            if self.headers.get("authorization") != f"Bearer {ACTIONS_REQUEST_TOKEN}":
                self._json(401, {"message": "bad runtime token"})
                return
            audience = query.get("audience", [AUDIENCE])[0]
            self._json(200, {"value": issuer.token(aud=audience, **issuer.run_claims)})

        def _json(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return IssuerHandler


@contextlib.contextmanager
def running_issuer(key: rsa.RSAPrivateKey) -> Iterator[Issuer]:
    box: list[Issuer] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    box.append(Issuer(url=f"http://127.0.0.1:{server.server_port}", key=key))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
