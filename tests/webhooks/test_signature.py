import pytest

from grader.webhooks.signature import SignatureError, sign, verify_signature

# GitHub's documented test vector for webhook signatures.
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_sign__matches_githubs_published_test_vector():
    assert sign(GITHUB_SECRET, GITHUB_PAYLOAD) == GITHUB_SIGNATURE


def test_verify__accepts_githubs_test_vector():
    verify_signature(GITHUB_SECRET, GITHUB_PAYLOAD, GITHUB_SIGNATURE, None)


@pytest.mark.parametrize(
    ("sha256", "sha1", "reason"),
    [
        (None, None, "missing"),
        (None, "sha1=abc", "SHA-1"),
        ("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", None, "sha256="),
        (GITHUB_SIGNATURE[:-1] + "0", None, "does not match"),
        (GITHUB_SIGNATURE.upper().replace("SHA256=", "sha256="), None, "does not match"),
    ],
)
def test_verify__rejects_unproven_deliveries_with_a_reason(sha256, sha1, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_signature(GITHUB_SECRET, GITHUB_PAYLOAD, sha256, sha1)


def test_verify__a_changed_body_fails():
    with pytest.raises(SignatureError):
        verify_signature(GITHUB_SECRET, GITHUB_PAYLOAD + b" ", GITHUB_SIGNATURE, None)
