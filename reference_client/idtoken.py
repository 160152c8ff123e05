"""Validating the ID token of a code exchange (OIDC Core §3.1.3.7) with PyJWT.

Checked: the RS256 signature against the JWKS named by discovery, `iss`, `aud` (this client),
`exp` and `iat` (with two minutes of clock skew), and the `nonce` this login sent. The token
comes straight from the token endpoint over TLS, so `at_hash` is not required (OIDC Core
§3.1.3.8 makes it optional in the code flow).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import jwt

from reference_client.errors import IdTokenRejected
from reference_client.ims import IMSClient

ALGORITHMS = ["RS256"]  # what IMS signs with (discovery: id_token_signing_alg_values_supported)
LEEWAY_S = 120


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str | None
    name: str | None


def accepted_issuers(discovered: str) -> list[str]:
    # Discovery names https://ims-na1.adobelogin.com, but Adobe documents ID tokens whose `iss`
    # is that URL plus /ims (docs/ims-facts.md §4); both mean the same IMS, nothing else is accepted.
    base = discovered.rstrip("/")
    return [discovered, base, f"{base}/ims"]


class IdTokenValidator:
    """Validates the ID token of a code exchange; each rule is its own step, so a test can
    build a validator that skips one on purpose (the conformance suite's evil twins do)."""

    def __init__(self, ims: IMSClient) -> None:
        self.ims = ims

    def decode_options(self) -> dict[str, Any]:
        """PyJWT's options: everything verified (its default), these claims required."""
        return {"require": ["iss", "sub", "aud", "exp", "iat"]}

    def check_nonce(self, claims: dict[str, Any], nonce: str) -> None:
        # OIDC Core §3.1.3.7 ¶11: the nonce must be the one this login sent.
        presented = claims.get("nonce")
        if not isinstance(presented, str) or not hmac.compare_digest(presented.encode(), nonce.encode()):
            raise IdTokenRejected("The ID token's nonce is not the one this sign-in sent.")

    async def validate(self, raw: str, *, nonce: str) -> Identity:
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError as exc:
            raise IdTokenRejected(f"The ID token is not a JWT ({exc}).") from None
        if header.get("alg") not in ALGORITHMS:
            raise IdTokenRejected(f"The ID token is signed with {header.get('alg')!r}, not RS256.")
        kid = header.get("kid")
        try:
            key = await self.ims.signing_key(kid if isinstance(kid, str) else None)
            discovery = await self.ims.discovery()
            claims: dict[str, Any] = jwt.decode(
                raw,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.ims.settings.client_id,
                issuer=accepted_issuers(discovery.issuer),
                leeway=LEEWAY_S,
                options=self.decode_options(),  # type: ignore[arg-type]
            )
        except jwt.PyJWTError as exc:
            raise IdTokenRejected(f"The ID token failed validation: {exc}.") from None
        self.check_nonce(claims, nonce)
        # OIDC Core §3.1.3.7 ¶4-5: with several audiences, azp must name this client.
        audience = claims.get("aud")
        if (
            isinstance(audience, list)
            and len(audience) > 1
            and claims.get("azp") != self.ims.settings.client_id
        ):
            raise IdTokenRejected("The ID token has several audiences and is not authorized for this client.")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise IdTokenRejected("The ID token names no user (sub).")
        email = claims.get("email")
        name = claims.get("name")
        return Identity(
            subject, email if isinstance(email, str) else None, name if isinstance(name, str) else None
        )
