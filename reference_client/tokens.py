"""The tokens of one user, and when the access token expires.

IMS access tokens are JWTs whose claims `created_at` and `expires_in` are strings of epoch
milliseconds (docs/ims-facts.md §4); their sum is the expiry, as Adobe's own aio-lib-ims computes
it. The claims are read without verifying the signature: the client only schedules its refresh
by them, and the API that receives the token is the one that checks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jwt

# Refresh a little before the expiry, so a token does not die in flight; never more than a
# tenth of its lifetime early, so short-lived tokens are not refreshed on every request.
EARLY_REFRESH_MS = 10_000


class TokenResponseError(ValueError):
    """A token response without what RFC 6749 §5.1 requires; the message names the field."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    obtained_ms: int
    expires_at_ms: int

    def expired(self, now_ms: int) -> bool:
        lifetime = max(self.expires_at_ms - self.obtained_ms, 0)
        return now_ms >= self.expires_at_ms - min(EARLY_REFRESH_MS, lifetime // 10)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "obtained_ms": self.obtained_ms,
                "expires_at_ms": self.expires_at_ms,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> TokenSet:
        doc = json.loads(data)
        return cls(
            access_token=str(doc["access_token"]),
            refresh_token=doc["refresh_token"],
            obtained_ms=int(doc["obtained_ms"]),
            expires_at_ms=int(doc["expires_at_ms"]),
        )


def _claim_ms(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "¹": int() refuses it
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def expiry_of(access_token: str, expires_in_s: int | None, now_ms: int) -> int:
    """When the access token expires: its own `created_at` + `expires_in`, else the response's
    `expires_in` (seconds on /ims/token/v3) counted from now, else one hour from now."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        claims = {}
    created = _claim_ms(claims, "created_at")
    lifetime = _claim_ms(claims, "expires_in")
    if created is not None and lifetime is not None:
        return created + lifetime
    if expires_in_s is not None:
        return now_ms + expires_in_s * 1000
    return now_ms + 3_600_000


def from_token_response(body: Any, now_ms: int, *, previous_refresh: str | None = None) -> TokenSet:
    """The tokens of a successful token response (RFC 6749 §5.1).

    IMS may answer a refresh without a new refresh token (a Lightroom key may not get renewed
    ones, docs/ims-facts.md §3); then the one just used stays valid and is kept.
    """
    if not isinstance(body, dict):
        raise TokenResponseError("the token response is not a JSON object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise TokenResponseError("the token response has no access_token")
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise TokenResponseError(f"the token response's token_type is {token_type!r}, not bearer")
    refresh = body.get("refresh_token")
    if refresh is not None and (not isinstance(refresh, str) or not refresh):
        raise TokenResponseError("the token response's refresh_token is not a string")
    expires_in = body.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool)):
        raise TokenResponseError("the token response's expires_in is not a number")
    return TokenSet(
        access_token=access,
        refresh_token=refresh or previous_refresh,
        obtained_ms=now_ms,
        expires_at_ms=expiry_of(access, expires_in, now_ms),
    )
