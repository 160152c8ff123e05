"""`grant_type=refresh_token` (RFC 6749 §6) with single-use, rotating refresh tokens.

IMS answers a refresh with a fresh pair of access and refresh tokens (docs/ims-facts.md §3). The
mock revokes the old refresh token when it is used; presenting it again is refused and revokes
the whole token family (RFC 9700 §4.14.2, refresh token replay detection). The rotated token
keeps the original expiry: IMS does not renew a Lightroom key's refresh lifetime by default.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_ims.config import ClientConfig
from mock_ims.endpoints.grants.presented import presented_grant
from mock_ims.http.params import Params
from mock_ims.protocol.errors import InvalidGrantError, InvalidScopeError
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.protocol.tokens import TokenKind
from mock_ims.state.context import context
from mock_ims.state.issuance import issue_tokens, token_response
from mock_ims.state.journal import Event

REPLAYED = "refresh token replayed"


async def exchange(request: Request, params: Params, client: ClientConfig, event: Event) -> dict[str, Any]:
    ctx = context(request)
    raw = params.require("refresh_token")
    now_ms = await ctx.now_ms()
    record = await presented_grant(
        ctx,
        raw,
        TokenKind.REFRESH_TOKEN,
        client,
        event,
        now_ms,
        error="invalid refresh token",
        noun="refresh token",
    )

    scopes = record.scopes
    requested = params.get("scope")
    if requested is not None:
        try:
            narrowed = parse_scope(requested)
        except ScopeError as exc:
            raise InvalidScopeError(f"malformed scope: {exc}") from exc
        extra = [s for s in narrowed if s not in scopes]
        if extra:
            raise InvalidScopeError(f"scope {extra[0]} was not granted to this refresh token (RFC 6749 §6)")
        scopes = narrowed or scopes

    if record.used_ms is not None or not await ctx.ledger.use(record, now_ms):
        event.revoked = await ctx.ledger.revoke_replayed(record, now_ms, REPLAYED)
        raise InvalidGrantError(
            "invalid refresh token",
            reason=f"refresh token already used (rotated); revoked {len(event.revoked)} token(s) of its family",
        )
    user = await ctx.registry.user(record.user_id)
    if user is None:
        raise InvalidGrantError("the user of this refresh token no longer exists", reason="user removed")
    issued = await issue_tokens(
        ctx,
        client=client,
        user=user,
        scopes=scopes,
        family=record.family,
        parent=record.id,
        sid=record.sid,
        state=record.state,
        now_ms=now_ms,
        issuer=ctx.base_url(request),
        with_refresh=True,
        with_id_token=False,
        refresh_expires_ms=record.expires_ms,
    )
    event.issued.extend(issued.ids)
    # A replay racing this request may have swept the family before these tokens existed.
    event.revoked = await ctx.ledger.sweep_if_replayed(record, now_ms, REPLAYED)
    if event.revoked:
        event.note("replayed_while_redeemed")
    return token_response(issued, version=event.version, user=user, include_sub=False)
