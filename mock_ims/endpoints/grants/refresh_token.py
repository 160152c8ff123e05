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
from mock_ims.endpoints.grants.presented import presented_grant, traded
from mock_ims.http.params import Params
from mock_ims.protocol.errors import InvalidGrantError, InvalidScopeError
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.protocol.tokens import TokenKind
from mock_ims.state.context import context
from mock_ims.state.issuance import Grant, issue_tokens
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
    grant = Grant.descending_from(
        record, client=client, user=user, scopes=scopes, issuer=ctx.base_url(request), now_ms=now_ms
    )
    # The refresh token's family keeps its first expiry: rotation does not extend it.
    issued = await issue_tokens(
        ctx, grant, with_refresh=True, with_id_token=False, refresh_expires_ms=record.expires_ms
    )
    return await traded(ctx, record, grant, issued, event, replayed=REPLAYED, include_sub=False)
