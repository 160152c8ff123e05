"""`/ims/.well-known/openid-configuration` and `/ims/keys` (OIDC Discovery 1.0 §3, RFC 7517).

Every URL points at this server, the issuer included, so strict OIDC clients accept it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from mock_ims.http.endpoint import ims_endpoint
from mock_ims.http.params import Params
from mock_ims.protocol.errors import MethodNotAllowedError
from mock_ims.state.context import context
from mock_ims.state.journal import Event


def openid_configuration(base: str) -> dict[str, Any]:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/ims/authorize/v2",
        "token_endpoint": f"{base}/ims/token/v3",
        "userinfo_endpoint": f"{base}/ims/userinfo/v2",
        "revocation_endpoint": f"{base}/ims/revoke",
        "end_session_endpoint": f"{base}/ims/logout/v1",
        "jwks_uri": f"{base}/ims/keys",
        "response_types_supported": ["code", "token", "id_token", "id_token token", "code id_token"],
        "response_modes_supported": ["query", "fragment"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "offline_access", "AdobeID"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": [
            "sub",
            "given_name",
            "family_name",
            "name",
            "email",
            "email_verified",
            "address",
        ],
        "grant_types_supported": [
            "authorization_code",
            "implicit_grant",
            "refresh_token",
            "client_credentials",
        ],
        "code_challenge_methods_supported": ["S256", "plain"],
        "mock": True,
    }


@ims_endpoint("discovery")
async def discovery(request: Request, params: Params, event: Event) -> Response:
    """The OpenID Provider configuration."""
    return JSONResponse(openid_configuration(context(request).base_url(request)))


@ims_endpoint("keys")
async def keys(request: Request, params: Params, event: Event) -> Response:
    """The public keys of every token the mock signs."""
    return JSONResponse(context(request).jwks, headers={"Cache-Control": "public, max-age=300"})


def _allowed_methods(request: Request) -> list[str]:
    """The methods another route serves at this path (none: the path is unknown)."""
    for route in request.app.routes:
        if isinstance(route, Route) and route.endpoint is not not_found:
            match, _ = route.matches(request.scope)
            if match == Match.PARTIAL:
                return sorted(route.methods or ())
    return []


@ims_endpoint("unknown")
async def not_found(request: Request, params: Params, event: Event) -> Response:
    """An /ims/ path the mock does not serve: journalled so a partner sees the typo.

    A path that is served, with a method it is not served with, is a 405 (RFC 9110 §15.5.6).
    """
    allowed = _allowed_methods(request)
    if allowed:
        raise MethodNotAllowedError(
            f"{request.method} is not served at {request.url.path}; allowed: {', '.join(allowed)}",
            allow=", ".join(allowed),
        )
    event.refuse("not_found", f"no IMS endpoint at {request.url.path}")
    return JSONResponse(
        {"error": "not_found", "error_description": f"no IMS endpoint at {request.url.path}"}, status_code=404
    )
