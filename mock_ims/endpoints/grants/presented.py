"""The code or refresh token a client presents at the token endpoint: checked, and traded for
tokens, the same way for both."""

from __future__ import annotations

from typing import Any

from mock_ims.config import ClientConfig
from mock_ims.protocol.errors import InvalidGrantError
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.context import Context
from mock_ims.state.issuance import Grant, IssuedTokens, token_response
from mock_ims.state.journal import Event
from mock_ims.state.ledger import TokenRejected


async def presented_grant(
    ctx: Context,
    raw: str,
    kind: TokenKind,
    client: ClientConfig,
    event: Event,
    now_ms: int,
    *,
    error: str,
    noun: str,
) -> TokenRecord:
    """The record behind `raw`: issued by this mock as `kind`, unexpired, unrevoked and to this
    client, else `invalid_grant` (RFC 6749 §5.2) with `error` as its description and `noun` in
    the journal's reason. A used one is returned: each grant refuses its own replay."""
    try:
        record = await ctx.ledger.check(raw, kind, now_ms, allow_used=True)
    except TokenRejected as exc:
        if exc.record is not None:
            event.consumed = exc.record.id
        raise InvalidGrantError(error, reason=f"{noun} {exc.reason}") from exc
    event.consumed = record.id
    event.user_id = record.user_id
    if record.client_id != client.client_id:
        raise InvalidGrantError(error, reason=f"{noun} was issued to another client")
    return record


async def traded(
    ctx: Context,
    record: TokenRecord,
    grant: Grant,
    issued: IssuedTokens,
    event: Event,
    *,
    replayed: str,
    include_sub: bool,
) -> dict[str, Any]:
    """The answer to a code or refresh token traded for `issued`, after a last look for a replay
    (`replayed`: the revocation reason then)."""
    event.issued.extend(issued.ids)
    if issued.tampered is not None and issued.id_token is not None:
        event.tampered(issued.tampered.fault, issued.tampered.how, issued.id_token)
    # A replay racing this request may have swept the family before these tokens existed.
    event.revoked = await ctx.ledger.sweep_if_replayed(record, grant.now_ms, replayed)
    if event.revoked:
        event.note("replayed_while_redeemed")
    return token_response(issued, version=event.version, user=grant.user, include_sub=include_sub)
