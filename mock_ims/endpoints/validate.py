"""`/ims/validate_token/v1`: is this token valid? (ims-go `validate_token.go`, aio-lib-ims)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params, check_value
from mock_ims.protocol.errors import InvalidRequestError
from mock_ims.protocol.tokens import TokenKind
from mock_ims.state.context import context
from mock_ims.state.journal import Event
from mock_ims.state.ledger import TokenRejected

_TYPES = {kind.value: kind for kind in TokenKind}


@ims_endpoint("validate_token")
async def validate_token(request: Request, params: Params, event: Event) -> Response:
    """`{"valid": true, "token": {claims}}` or `{"valid": false, "reason": "..."}`."""
    ctx = context(request)
    raw = params.get("token") or params.bearer
    if not raw:
        raise InvalidRequestError("missing required parameter: token")
    header = request.headers.get("x-ims-clientid")
    if header is not None:
        check_value("X-IMS-ClientId", header)
    client_id = params.get("client_id") or header
    if not client_id:
        raise InvalidRequestError("missing required parameter: client_id (or the X-IMS-ClientId header)")
    event.client_id = client_id
    type_name = params.get("type") or "access_token"
    kind = _TYPES.get(type_name)
    if kind is None:
        raise InvalidRequestError(f"type {type_name!r} is not one of {', '.join(_TYPES)}")
    try:
        record = await ctx.ledger.check(raw, kind, await ctx.now_ms())
    except TokenRejected as exc:
        event.reason = f"token {exc.reason}"
        return JSONResponse({"valid": False, "reason": exc.reason.split(":")[0]})
    event.consumed = record.id
    event.user_id = record.user_id
    if record.client_id != client_id:
        event.reason = "token of another client"
        return JSONResponse({"valid": False, "reason": "client_id mismatch"})
    claims = ctx.signer.verify(raw)
    return JSONResponse({"valid": True, "token": claims, "expires_at": record.expires_ms})
