"""`/ims/logout/v1`: end the IMS session and invalidate the user's tokens (docs/ims-facts.md §3).

Front channel (a browser, GET): clears the SSO session and redirects to `redirect_uri` when it
matches the client's patterns, else shows a signed-out page (never an open redirect). Back
channel (`client_id` + `client_secret` + `access_token`): answers 200 `{}`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.http import pages
from mock_ims.http.clientauth import authenticate_client
from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.http.responses import NO_STORE, redirect
from mock_ims.protocol import redirects
from mock_ims.protocol.errors import InvalidRequestError
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state import sessions
from mock_ims.state.context import Context, context
from mock_ims.state.journal import Event
from mock_ims.state.ledger import TokenRejected


async def _end_token_grant(ctx: Context, raw: str | None, now_ms: int, event: Event) -> TokenRecord | None:
    if not raw:
        return None
    try:
        record = await ctx.ledger.check(raw, TokenKind.ACCESS_TOKEN, now_ms)
    except TokenRejected as exc:
        event.note(f"access_token_not_live: {exc.reason.split(':')[0]}")
        return None
    event.consumed = record.id
    event.user_id = record.user_id
    event.revoked = await ctx.ledger.revoke_where(now_ms, "logout", family=record.family)
    if record.sid:
        await sessions.end_session(ctx, record.sid)
    return record


@ims_endpoint("logout")
async def logout(request: Request, params: Params, event: Event) -> Response:
    """Sign the user out of IMS."""
    ctx = context(request)
    now_ms = await ctx.now_ms()
    raw_token = params.get("access_token") or params.bearer
    if params.get("client_secret") is not None or params.basic is not None:
        client = await authenticate_client(ctx, params, event)
        if not raw_token:
            raise InvalidRequestError("missing required parameter: access_token")
        record = await _end_token_grant(ctx, raw_token, now_ms, event)
        if record is not None and record.client_id != client.client_id:
            event.note("token_of_another_client")
        return JSONResponse({}, headers=NO_STORE)

    record = await _end_token_grant(ctx, raw_token, now_ms, event)
    signed_in = await sessions.current_user(ctx, request, now_ms)
    if signed_in:
        await sessions.end_session(ctx, signed_in.sid)
        event.user_id = event.user_id or signed_in.user.user_id
    target = params.get("redirect_uri")
    response: Response
    if target:
        client_id = params.get("client_id") or (record.client_id if record else None)
        owner = await ctx.registry.client(client_id) if client_id else None
        if owner is not None and redirects.matches(owner, target):
            response = redirect(target)
        else:
            event.note("logout_redirect_refused")
            event.reason = "redirect_uri matches no pattern of the client named by client_id or the token"
            response = pages.signed_out_page(request, "The application's return address was not recognised.")
    else:
        response = pages.signed_out_page(request)
    sessions.clear_session_cookie(response)
    return response
