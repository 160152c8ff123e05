"""`mock_ims.protocol.pkce`: RFC 7636."""

from __future__ import annotations

import pytest

from mock_ims.protocol.pkce import is_valid_challenge, is_valid_verifier, s256, verify

# RFC 7636 Appendix B
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_matches_the_rfc_example() -> None:
    assert s256(RFC_VERIFIER) == RFC_CHALLENGE


def test_verify_s256_and_plain() -> None:
    assert verify(RFC_VERIFIER, RFC_CHALLENGE, "S256")
    assert verify(RFC_VERIFIER, RFC_VERIFIER, "plain")
    assert not verify(RFC_VERIFIER, RFC_VERIFIER, "S256")
    assert not verify(RFC_VERIFIER, RFC_CHALLENGE, "plain")
    assert not verify("x" * 43, RFC_CHALLENGE, "S256")


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "=", "a" * 42 + "+", "a" * 42 + " ", "a" * 42 + "\u00e9"],
)
def test_a_verifier_outside_rfc_7636_4_1_never_verifies(verifier: str) -> None:
    assert not is_valid_verifier(verifier)
    assert not verify(verifier, verifier, "plain")


@pytest.mark.parametrize("verifier", ["a" * 43, "a" * 128, "AZaz09-._~" * 5])
def test_verifiers_of_the_unreserved_alphabet_are_valid(verifier: str) -> None:
    assert is_valid_verifier(verifier)


def test_challenge_shapes() -> None:
    assert is_valid_challenge(RFC_CHALLENGE, "S256")
    assert not is_valid_challenge(RFC_CHALLENGE + "A", "S256")  # a SHA-256 digest is 43 characters
    assert not is_valid_challenge(RFC_CHALLENGE[:-1] + ".", "S256")  # base64url has no '.'
    assert is_valid_challenge(RFC_VERIFIER, "plain")
    assert not is_valid_challenge("short", "plain")
