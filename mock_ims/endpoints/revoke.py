"""`/ims/revoke`: token revocation (RFC 7009)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_ims.http.clientauth import authenticate_client
from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.protocol import jws
from mock_ims.protocol.errors import InvalidRequestError, MethodNotAllowedError
from mock_ims.protocol.tokens import TokenKind
from mock_ims.state.context import context
from mock_ims.state.journal import Event


@ims_endpoint("revoke")
async def revoke(request: Request, params: Params, event: Event) -> Response:
    """Revoke a token; a refresh token takes its whole grant with it (RFC 7009 §2.1).

    IMS answers 200 with no body (docs/ims-facts.md §3); so does an unknown token (RFC 7009 §2.2).
    """
    ctx = context(request)
    if request.method != "POST":
        raise MethodNotAllowedError("revocation takes POST (RFC 7009 §2.1)", allow="POST")
    raw = params.require("token")
    client = await authenticate_client(ctx, params, event)
    now_ms = await ctx.now_ms()
    try:
        claims = ctx.signer.verify(raw)
    except jws.JWSError:
        event.reason = "not a token of this mock; nothing to revoke"
        return Response(status_code=200)
    record = await ctx.ledger.get(str(claims.get("id")))
    if record is None:
        event.reason = "unknown token; nothing to revoke"
        return Response(status_code=200)
    event.consumed = record.id
    event.user_id = record.user_id
    if record.client_id != client.client_id:
        raise InvalidRequestError("the token was not issued to this client", reason="token of another client")
    if record.kind == TokenKind.REFRESH_TOKEN:
        event.revoked = await ctx.ledger.revoke_where(now_ms, "revoked by the client", family=record.family)
    elif await ctx.ledger.revoke(record.id, now_ms, "revoked by the client"):
        event.revoked = [record.id]
    if not event.revoked:
        event.reason = "already revoked"
    return Response(status_code=200)
