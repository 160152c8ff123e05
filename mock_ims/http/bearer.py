"""Bearer access tokens presented to resource endpoints (RFC 6750)."""

from __future__ import annotations

from mock_ims.http.params import Params
from mock_ims.http.responses import MissingTokenError
from mock_ims.protocol.errors import InvalidTokenError
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.context import Context
from mock_ims.state.journal import Event
from mock_ims.state.ledger import TokenRejected


async def bearer_token(ctx: Context, params: Params, event: Event) -> TokenRecord:
    """The live access token of the request: `Authorization: Bearer`, or (journalled as a
    leniency, RFC 6750 §2.3 discourages it) an `access_token` parameter."""
    raw = params.bearer
    if raw is None:
        raw = params.get("access_token")
        if raw:
            event.note("access_token_in_query" if params.in_query("access_token") else "access_token_in_body")
    if not raw:
        raise MissingTokenError("missing bearer token (send Authorization: Bearer <access token>)")
    try:
        record = await ctx.ledger.check(raw, TokenKind.ACCESS_TOKEN, await ctx.now_ms())
    except TokenRejected as exc:
        if exc.record is not None:
            event.consumed = exc.record.id
            event.client_id = exc.record.client_id
            event.user_id = exc.record.user_id
        raise InvalidTokenError(
            f"access token {exc.reason.split(':')[0]}", reason=f"access token {exc.reason}"
        ) from exc
    event.consumed = record.id
    event.client_id = record.client_id
    event.user_id = record.user_id
    return record
