"""Validating the ID token of a code exchange (OIDC Core §3.1.3.7) with PyJWT.

Checked: the RS256 signature against the JWKS named by discovery, `iss`, `aud` (this client),
`exp` and `iat` (with two minutes of clock skew), and the `nonce` this login sent. The token
comes straight from the token endpoint over TLS, so `at_hash` is not required (OIDC Core
§3.1.3.8 makes it optional in the code flow).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

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


async def validate_id_token(ims: IMSClient, raw: str, *, nonce: str) -> Identity:
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise IdTokenRejected(f"The ID token is not a JWT ({exc}).") from None
    if header.get("alg") not in ALGORITHMS:
        raise IdTokenRejected(f"The ID token is signed with {header.get('alg')!r}, not RS256.")
    kid = header.get("kid")
    try:
        key = await ims.signing_key(kid if isinstance(kid, str) else None)
        discovery = await ims.discovery()
        claims = jwt.decode(
            raw,
            key.key,
            algorithms=ALGORITHMS,
            audience=ims.settings.client_id,
            issuer=accepted_issuers(discovery.issuer),
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise IdTokenRejected(f"The ID token failed validation: {exc}.") from None
    # OIDC Core §3.1.3.7 ¶11: the nonce must be the one this login sent.
    presented = claims.get("nonce")
    if not isinstance(presented, str) or not hmac.compare_digest(presented.encode(), nonce.encode()):
        raise IdTokenRejected("The ID token's nonce is not the one this sign-in sent.")
    # OIDC Core §3.1.3.7 ¶4-5: with several audiences, azp must name this client.
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != ims.settings.client_id:
        raise IdTokenRejected("The ID token has several audiences and is not authorized for this client.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise IdTokenRejected("The ID token names no user (sub).")
    email = claims.get("email")
    name = claims.get("name")
    return Identity(
        subject, email if isinstance(email, str) else None, name if isinstance(name, str) else None
    )
