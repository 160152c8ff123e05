"""Tokens exactly as the mock issues them (same signer, same claims), without running a flow."""

from __future__ import annotations

from functools import cache

from conformance.storage.leaks import Secret
from mock_ims.protocol.keys import KeySet
from mock_ims.protocol.tokens import TokenKind, TokenRecord, TokenSigner

NOW_MS = 1_795_804_479_455
USER = "alice@AdobeID"
CLIENT_ID = "mock-partner-app"


@cache
def issued() -> dict[str, str]:
    """An authorization code, an access token, a refresh token and an ID token of one login."""
    signer = TokenSigner(KeySet.ephemeral())
    tokens: dict[str, str] = {}
    for kind, lifetime_ms in (
        (TokenKind.AUTHORIZATION_CODE, 300_000),
        (TokenKind.ACCESS_TOKEN, 86_400_000),
        (TokenKind.REFRESH_TOKEN, 14 * 86_400_000),
    ):
        record = TokenRecord(
            id=signer.new_id(NOW_MS),
            kind=kind.value,
            raw="",
            client_id=CLIENT_ID,
            user_id=USER,
            scope="openid,AdobeID,lr_partner_apis,offline_access",
            created_ms=NOW_MS,
            expires_ms=NOW_MS + lifetime_ms,
            family="family-1",
            sid="sid-1",
        )
        tokens[kind.value] = signer.sign(record)
    tokens["id_token"] = signer.id_token(
        issuer="http://127.0.0.1:8765",
        client_id=CLIENT_ID,
        subject=USER,
        now_ms=NOW_MS,
        lifetime_s=86_400,
        nonce="nonce-1",
        access_token=tokens["access_token"],
        profile={"email": "alice@example.com", "name": "Alice Example"},
        sid="sid-1",
    )
    return tokens


def secrets() -> list[Secret]:
    return [Secret(kind, value) for kind, value in issued().items()]


def secret(kind: str = "access_token") -> Secret:
    return Secret(kind, issued()[kind])
