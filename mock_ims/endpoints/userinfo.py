"""`/ims/userinfo/v2` (OIDC Core §5.3) and `/ims/profile/v1`: who the token's user is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.config import UserConfig
from mock_ims.http.bearer import bearer_token
from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.protocol import profiles
from mock_ims.protocol.errors import InsufficientScopeError, InvalidTokenError
from mock_ims.protocol.tokens import TokenRecord
from mock_ims.state.context import Context, context
from mock_ims.state.journal import Event

_HEADERS = {"Cache-Control": "no-store"}


async def _user_of(ctx: Context, record: TokenRecord) -> UserConfig:
    """The token's user: a technical account's token (client_credentials) has none."""
    user = await ctx.registry.user(record.user_id)
    if user is None:
        raise InvalidTokenError("access token of a technical account or removed user", reason="no such user")
    return user


@ims_endpoint("userinfo")
async def userinfo(request: Request, params: Params, event: Event) -> Response:
    """Standard OIDC claims of the user, projected by the token's scopes."""
    ctx = context(request)
    record = await bearer_token(ctx, params, event)
    if "openid" not in record.scopes:
        raise InsufficientScopeError("the access token lacks the openid scope")
    user = await _user_of(ctx, record)
    asked_client = params.get("client_id")
    if asked_client is not None and asked_client != record.client_id:
        event.note("client_id_differs_from_token")
    return JSONResponse(profiles.userinfo(user, record.scopes), headers=_HEADERS)


@ims_endpoint("profile")
async def profile(request: Request, params: Params, event: Event) -> Response:
    """The IMS profile of the user (not an OIDC document; docs/ims-facts.md §5)."""
    ctx = context(request)
    record = await bearer_token(ctx, params, event)
    user = await _user_of(ctx, record)
    return JSONResponse(profiles.profile(user), headers=_HEADERS)
