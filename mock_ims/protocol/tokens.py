"""IMS-shaped tokens: how codes, access, refresh and ID tokens look, and how they are signed.

Access and refresh tokens follow real IMS tokens (docs/ims-facts.md §4): RS256 JWTs with header
`alg, x5u, kid, itt` and claims `id, type, client_id, user_id, as, aa_id, sid, scope`, with
`created_at` and `expires_in` as strings of epoch milliseconds, and no `exp`, `iat` or `iss`.
The ID token is a standard OIDC Core §2 token. Every token carries `"mock": true`, so it can
never be mistaken for one Adobe issued.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from mock_ims.protocol import jws
from mock_ims.protocol.keys import ACCESS_KID, ID_TOKEN_KID, REFRESH_KID, KeySet, foreign_key
from mock_ims.store.base import copy_doc

AUTHORITY = "ims-na1"  # the `as` claim of production IMS tokens


class TokenKind(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    ACCESS_TOKEN = "access_token"
    REFRESH_TOKEN = "refresh_token"


_HEADERS: dict[str, dict[str, str]] = {  # by TokenKind (a str): a record's kind finds its header
    TokenKind.ACCESS_TOKEN: {"alg": "RS256", "x5u": f"{ACCESS_KID}.cer", "kid": ACCESS_KID, "itt": "at"},
    TokenKind.REFRESH_TOKEN: {"alg": "RS256", "x5u": f"{REFRESH_KID}.cer", "kid": REFRESH_KID, "itt": "rt"},
    # IMS codes are JWTs too (`code=eyJ4NXUiOiJpbXNfbmExLWtleS...`); their `itt` is a guess.
    TokenKind.AUTHORIZATION_CODE: {
        "alg": "RS256",
        "x5u": f"{ACCESS_KID}.cer",
        "kid": ACCESS_KID,
        "itt": "ac",
    },
}
_ID_TOKEN_HEADER = {"alg": "RS256", "kid": ID_TOKEN_KID, "typ": "JWT"}
# What a wrong ID token claims instead (the `id-token-tampered` scenario; the ways are
# `bodies.TAMPERINGS`, each one a relying party must catch: OIDC Core §3.1.3.7).
FOREIGN_AUDIENCE = "mock-ims-another-client"
FOREIGN_ISSUER = "https://another-issuer.mock-ims.invalid"


@dataclass
class TokenRecord:
    """What the mock remembers about a code or token it issued (one store document)."""

    id: str
    kind: str
    raw: str
    client_id: str
    user_id: str
    scope: str
    created_ms: int
    expires_ms: int
    family: str  # the grant this token descends from: every token of one login shares it
    parent: str | None = None  # the code or refresh token it was issued for
    sid: str | None = None
    state: str = ""
    used_ms: int | None = None
    revoked_ms: int | None = None
    revoked_reason: str | None = None
    # authorization codes only
    redirect_uri: str | None = None
    redirect_uri_sent: bool = False
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None
    minted_by: str = "flow"  # "flow", or "admin" when minted through the control plane
    extra: dict[str, Any] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its generic deep copy cost about a quarter of a signature.
        doc = {name: getattr(self, name) for name in _RECORD_FIELDS}
        if self.extra:
            # Only when set: a document of plain values is one the garbage collector never
            # scans, and the memory store keeps one for every token issued.
            doc["extra"] = copy_doc(self.extra)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TokenRecord:
        return cls(**doc)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.scope.split(",") if s)


_RECORD_FIELDS = tuple(f.name for f in fields(TokenRecord) if f.name != "extra")


def new_token_id(now_ms: int, region: str) -> str:
    """`<created_at>_<uuid>_<region>`, the shape of real IMS token ids."""
    return f"{now_ms}_{uuid.uuid4()}_{region}"


@functools.lru_cache(maxsize=1024)
def technical_account_id(client_id: str) -> str:
    """The technical-account user id a client_credentials token is issued to."""
    digest = hashlib.sha256(client_id.encode()).hexdigest().upper()
    return f"{digest[:24]}@techacct.adobe.com"


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of SHA-256 of the access token, base64url."""
    return jws.b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest()[:16])


class TokenSigner:
    """Turns records into signed JWTs; holds the loaded keys (never re-parsed per call)."""

    def __init__(self, keys: KeySet, region: str = "ue1") -> None:
        self.keys = keys
        self.region = region
        self._private = keys.private
        self.public_keys = keys.public

    def new_id(self, now_ms: int) -> str:
        return new_token_id(now_ms, self.region)

    def sign(
        self, record: TokenRecord, *, technical: bool = False, extra_claims: dict[str, Any] | None = None
    ) -> str:
        claims: dict[str, Any] = {
            "id": record.id,
            "type": record.kind,
            "client_id": record.client_id,
            "user_id": record.user_id,
            "state": record.state,
            "as": AUTHORITY,
            "aa_id": record.user_id,
            "ctp": 3 if technical else 0,
        }
        if record.sid:
            claims["sid"] = record.sid
        if extra_claims:
            claims.update(extra_claims)
        claims["mock"] = True
        claims["expires_in"] = str(record.expires_ms - record.created_ms)
        claims["scope"] = record.scope
        claims["created_at"] = str(record.created_ms)
        header = _HEADERS[record.kind]
        return jws.sign(header, claims, self._private[header["kid"]])

    def id_token(
        self,
        *,
        issuer: str,
        client_id: str,
        subject: str,
        now_ms: int,
        lifetime_s: int,
        nonce: str | None,
        access_token: str | None,
        profile: dict[str, Any],
        sid: str | None,
        tamper: str | None = None,
    ) -> str:
        """An OIDC Core §2 ID token; with `tamper` (one of `bodies.TAMPERINGS`), wrong in that one way:
        signed by a key not in the JWKS (under the right `kid`), for another audience, from
        another issuer, expired an hour ago, or with a nonce the client never sent."""
        now = now_ms // 1000
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": subject,
            "aud": client_id,
            "exp": now + lifetime_s,
            "iat": now,
        }
        claims["auth_time"] = now
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["at_hash"] = at_hash(access_token)
        if sid:
            claims["sid"] = sid
        claims.update(profile)
        claims["mock"] = True
        if tamper == "audience":
            claims["aud"] = FOREIGN_AUDIENCE
        elif tamper == "issuer":
            claims["iss"] = FOREIGN_ISSUER
        elif tamper == "expired":
            claims.update(iat=now - lifetime_s - 3600, auth_time=now - lifetime_s - 3600, exp=now - 3600)
        elif tamper == "nonce":
            claims["nonce"] = f"not-the-nonce-sent-{uuid.uuid4().hex}"
        key = foreign_key() if tamper == "signature" else self._private[ID_TOKEN_KID]
        return jws.sign(_ID_TOKEN_HEADER, claims, key)

    def verify(self, raw: str) -> dict[str, Any]:
        """Claims of a token signed by one of our keys; `jws.JWSError` otherwise."""
        _, claims = jws.verify(raw, self.public_keys)
        return claims
