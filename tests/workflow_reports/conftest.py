"""Fixtures of the OIDC tests: the signing keys and a running issuer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.workflow_reports.issuer import Issuer, make_private_key, running_issuer


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return make_private_key()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return make_private_key()


@pytest.fixture
def issuer(signing_key: rsa.RSAPrivateKey) -> Iterator[Issuer]:
    with running_issuer(signing_key) as issuer:
        yield issuer
