"""Token-endpoint grants (RFC 6749 §4), one module each, mapped by `grant_type`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from mock_ims.config import ClientConfig
from mock_ims.endpoints.grants import authorization_code, client_credentials, refresh_token
from mock_ims.http.params import Params
from mock_ims.state.journal import Event

Grant = Callable[[Request, Params, ClientConfig, Event], Awaitable[dict[str, Any]]]

GRANTS: dict[str, Grant] = {
    "authorization_code": authorization_code.exchange,
    "refresh_token": refresh_token.exchange,
    "client_credentials": client_credentials.exchange,
}
