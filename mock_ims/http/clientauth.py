"""Client authentication at the token, revoke and logout endpoints (RFC 6749 §2.3).

IMS v3 takes HTTP Basic (`client_secret_basic`) or body parameters (`client_secret_post`); the
legacy endpoints and Adobe's own samples also send the secret in the query string, which the
mock accepts and journals (docs/ims-facts.md §3). Secrets are compared in constant time.
"""

from __future__ import annotations

import hmac

from mock_ims.config import ClientConfig
from mock_ims.http.params import Params
from mock_ims.protocol.errors import InvalidClientError, InvalidRequestError
from mock_ims.state.context import Context
from mock_ims.state.journal import Event


async def authenticate_client(ctx: Context, params: Params, event: Event) -> ClientConfig:
    """The calling client, authenticated as its type requires (public clients: id only)."""
    body_secret = params.get("client_secret")
    secret: str | None
    if params.basic is not None:
        client_id, secret = params.basic
        if body_secret is not None:
            raise InvalidRequestError(
                "client authenticated twice (HTTP Basic and client_secret); use one method (RFC 6749 §2.3)"
            )
        if params.get("client_id") not in (None, client_id):
            raise InvalidClientError("client_id differs from the HTTP Basic credentials")
        method = "basic"
    else:
        client_id = params.get("client_id") or ""
        secret = body_secret
        if not client_id:
            raise InvalidClientError(
                "missing client_id parameter (send HTTP Basic credentials or client_id and client_secret)"
            )
        method = "none" if secret is None else ("query" if params.in_query("client_secret") else "body")
    event.client_id = client_id
    event.auth = method
    client = await ctx.registry.client(client_id)
    if client is None:
        raise InvalidClientError("invalid client_id parameter", reason="unknown client_id")
    if method == "query":
        event.note("client_secret_in_query")
    if client.client_secret is None:
        if secret:
            raise InvalidClientError("a public client has no secret", reason="public client sent a secret")
        return client
    if not secret:
        raise InvalidClientError(
            "missing client_secret parameter", reason="confidential client sent no secret"
        )
    if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        raise InvalidClientError("invalid client_secret parameter", reason="wrong client secret")
    return client
