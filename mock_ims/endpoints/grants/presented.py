"""The code or refresh token a client presents at the token endpoint, checked once for both."""

from __future__ import annotations

from mock_ims.config import ClientConfig
from mock_ims.protocol.errors import InvalidGrantError
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.context import Context
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
