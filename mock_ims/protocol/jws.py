"""Compact JWS with RS256 (RFC 7515, RFC 7518 §3.3): just what IMS-shaped tokens need.

Signing is hand-rolled rather than done with PyJWT so the header keeps IMS's key order and
nothing is re-parsed per call; verification accepts RS256 with a known `kid` and nothing else
(no `alg=none`, no HMAC with a public key).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_TOKEN_LENGTH = 16_384
_PADDING = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


class JWSError(ValueError):
    """The token is not a valid RS256 compact JWS from one of our keys."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or len(text) % 4 == 1 or not _B64URL.fullmatch(text):
        raise JWSError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - filtered above
        raise JWSError("not base64url") from exc
    # The unused low bits of the last character must be zero (RFC 4648 §3.5): otherwise several
    # spellings decode to the same bytes, and a token with its last character changed verifies.
    if b64url_encode(data) != text:
        raise JWSError("not canonical base64url")
    return data


B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")  # B64URL_ALPHABET, checked in C rather than per character
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # one encoder, not one per call


def _json_segment(obj: Mapping[str, Any]) -> str:
    return b64url_encode(_COMPACT.encode(obj).encode())


def sign(header: Mapping[str, Any], claims: Mapping[str, Any], key: rsa.RSAPrivateKey) -> str:
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    signature = key.sign(signing_input.encode("ascii"), _PADDING, _SHA256)
    return f"{signing_input}.{b64url_encode(signature)}"


def _decode_json(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (JWSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JWSError(f"the {what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise JWSError(f"the {what} is not a JSON object")
    return value


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims without checking the signature (for display and journal only)."""
    parts = _split(token)
    return _decode_json(parts[0], "header"), _decode_json(parts[1], "payload")


def _split(token: str) -> list[str]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise JWSError("the token is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("a JWS has three dot-separated parts")
    return parts


def verify(token: str, public_keys: Mapping[str, rsa.RSAPublicKey]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check an RS256 signature by one of `public_keys` (by `kid`); header and claims."""
    parts = _split(token)
    header = _decode_json(parts[0], "header")
    if header.get("alg") != "RS256":
        raise JWSError(f"unsupported alg {header.get('alg')!r}; only RS256 is accepted")
    kid = header.get("kid")
    key = public_keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise JWSError(f"unknown kid {kid!r}")
    signature = b64url_decode(parts[2])
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), _PADDING, _SHA256)
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise JWSError("the signature does not verify") from exc
    return header, _decode_json(parts[1], "payload")
