"""`grant_type=client_credentials` (RFC 6749 §4.4): IMS OAuth Server-to-Server."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_ims.config import ClientConfig
from mock_ims.http.params import Params
from mock_ims.protocol.errors import InvalidScopeError, UnauthorizedClientError
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.state.context import context
from mock_ims.state.issuance import Grant, issue_tokens, token_response
from mock_ims.state.journal import Event

# No refresh token for this grant (RFC 6749 §4.4.3). `openid` is allowed: Adobe's server-to-server
# samples ask for `openid,AdobeID,...`; no ID token is issued, as there is no user.
NOT_FOR_THIS_GRANT = frozenset({"offline_access"})


async def exchange(request: Request, params: Params, client: ClientConfig, event: Event) -> dict[str, Any]:
    ctx = context(request)
    if not client.confidential:
        raise UnauthorizedClientError("a public client cannot use client_credentials")
    requested = params.get("scope")
    if requested:
        try:
            scopes = parse_scope(requested)
        except ScopeError as exc:
            raise InvalidScopeError(f"malformed scope: {exc}") from exc
        not_allowed = [s for s in scopes if s not in client.scopes or s in NOT_FOR_THIS_GRANT]
        if not_allowed:
            raise InvalidScopeError(f"scope {not_allowed[0]} is not allowed for this client")
    else:
        scopes = tuple(s for s in client.scopes if s not in NOT_FOR_THIS_GRANT)
        event.note("scope_omitted")
    now_ms = await ctx.now_ms()
    grant = Grant(client, None, scopes, ctx.base_url(request), now_ms)
    issued = await issue_tokens(ctx, grant, with_refresh=False, with_id_token=False)
    event.user_id = issued.access.user_id
    event.issued.extend(issued.ids)
    return token_response(issued, version=event.version, user=None, include_sub=False)
