"""Proof Key for Code Exchange (RFC 7636)."""

from __future__ import annotations

import hashlib
import hmac
import re

from mock_ims.protocol.jws import b64url_encode

METHODS = ("S256", "plain")
# RFC 7636 §4.1: code-verifier = 43*128unreserved; §4.2: the challenge has the same alphabet.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def is_valid_challenge(challenge: str, method: str) -> bool:
    if method == "S256":
        return re.fullmatch(r"[A-Za-z0-9\-_]{43}", challenge) is not None
    return _VERIFIER.fullmatch(challenge) is not None


def is_valid_verifier(verifier: str) -> bool:
    return _VERIFIER.fullmatch(verifier) is not None


def s256(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def verify(verifier: str, challenge: str, method: str) -> bool:
    """RFC 7636 §4.6, compared in constant time."""
    if not is_valid_verifier(verifier):
        return False
    expected = s256(verifier) if method == "S256" else verifier
    return hmac.compare_digest(expected.encode(), challenge.encode())
