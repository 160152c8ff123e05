"""`grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_ims.config import ClientConfig
from mock_ims.endpoints.grants.presented import presented_grant, traded
from mock_ims.http.params import Params
from mock_ims.protocol import pkce
from mock_ims.protocol.errors import InvalidGrantError
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.context import context
from mock_ims.state.issuance import Grant, issue_tokens, wants_refresh_token
from mock_ims.state.journal import Event

REPLAYED = "authorization code replayed"


async def _refuse_replay(
    request: Request, record: TokenRecord, now_ms: int, event: Event
) -> InvalidGrantError:
    """RFC 6749 §4.1.2: a code used twice is refused and what it produced is revoked."""
    ctx = context(request)
    event.revoked = await ctx.ledger.revoke_replayed(record, now_ms, REPLAYED)
    return InvalidGrantError(
        "authorization code already used",
        reason=f"code replayed; revoked {len(event.revoked)} token(s) it produced",
    )


async def exchange(request: Request, params: Params, client: ClientConfig, event: Event) -> dict[str, Any]:
    ctx = context(request)
    raw_code = params.require("code")
    now_ms = await ctx.now_ms()
    record = await presented_grant(
        ctx,
        raw_code,
        TokenKind.AUTHORIZATION_CODE,
        client,
        event,
        now_ms,
        error="invalid authorization code",
        noun="code",
    )
    if record.used_ms is not None:
        raise await _refuse_replay(request, record, now_ms, event)

    # RFC 6749 §4.1.3: redirect_uri must be identical when the authorize request included it.
    # IMS does not document it as a token parameter, so omitting it is accepted and journalled.
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        event.note("redirect_uri_omitted")
    elif redirect_uri != record.redirect_uri:
        raise InvalidGrantError(
            "redirect_uri does not match the authorization request", reason="redirect_uri mismatch"
        )

    verifier = params.get("code_verifier")
    if record.code_challenge is not None:
        if not verifier:
            raise InvalidGrantError("missing code_verifier (the authorization request sent a code_challenge)")
        if not pkce.verify(verifier, record.code_challenge, record.code_challenge_method or "plain"):
            raise InvalidGrantError("code_verifier does not match the code_challenge", reason="PKCE mismatch")
    elif verifier is not None:
        # RFC 9700 §2.1.1: refuse a verifier when no challenge was sent (PKCE downgrade).
        raise InvalidGrantError("code_verifier sent, but the authorization request had no code_challenge")

    user = await ctx.registry.user(record.user_id)
    if user is None:
        raise InvalidGrantError("the user of this code no longer exists", reason="user removed")
    if not await ctx.ledger.use(record, now_ms):
        raise await _refuse_replay(request, record, now_ms, event)
    scopes = record.scopes
    grant = Grant.descending_from(
        record, client=client, user=user, scopes=scopes, issuer=ctx.base_url(request), now_ms=now_ms
    )
    issued = await issue_tokens(
        ctx, grant, with_refresh=wants_refresh_token(client, scopes), with_id_token="openid" in scopes
    )
    return await traded(ctx, record, grant, issued, event, replayed=REPLAYED, include_sub=True)
