"""`/ims/token/v3` (and v2, v1, unversioned): RFC 6749 §3.2, §5."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.endpoints.grants import GRANTS
from mock_ims.http.clientauth import authenticate_client
from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.http.responses import NO_STORE
from mock_ims.protocol.errors import MethodNotAllowedError, UnauthorizedClientError, UnsupportedGrantTypeError
from mock_ims.state.context import context
from mock_ims.state.journal import Event


@ims_endpoint("token")
async def token(request: Request, params: Params, event: Event) -> Response:
    """Trade a grant for tokens."""
    if request.method != "POST":
        raise MethodNotAllowedError("the token endpoint takes POST (RFC 6749 §3.2)", allow="POST")
    grant_type = params.require("grant_type")
    client = await authenticate_client(context(request), params, event)
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantTypeError(f"grant_type {grant_type!r} is not supported")
    if grant_type not in client.grant_types:
        raise UnauthorizedClientError(f"this client may not use grant_type={grant_type}")
    body = await grant(request, params, client, event)
    return JSONResponse(body, headers=NO_STORE)
