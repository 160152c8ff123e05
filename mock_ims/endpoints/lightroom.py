"""The Lightroom Partner API stub: `/v2/health`, `/v2/account`, `/v2/catalog` (docs/ims-facts.md §6).

A partner points its `lr.adobe.io` base URL at the mock. Every answer, errors included, is JSON
behind Lightroom's `while (1) {}` prefix, and errors carry Lightroom's codes, not OAuth's. Calls
are journalled like IMS calls (endpoints `lightroom.health`, `lightroom.account`,
`lightroom.catalog`), so the conformance suite sees which token a partner used and when.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.http.endpoint import Endpoint, ims_endpoint
from mock_ims.http.params import Params
from mock_ims.http.responses import error_response
from mock_ims.protocol import profiles
from mock_ims.protocol.errors import OAuthError
from mock_ims.protocol.tokens import TokenKind, TokenRecord, technical_account_id
from mock_ims.state.context import Context, context
from mock_ims.state.journal import Event
from mock_ims.state.ledger import TokenRejected
from mock_ims.version import __version__

JSON_PREFIX = b"while (1) {}\n"
MEDIA_TYPE = "application/json;charset=utf-8"
LIGHTROOM_SCOPE = "lr_partner_apis"
# Only these entitlements may use the Lightroom APIs beyond /v2/account (docs/ims-facts.md §5).
ENTITLED = frozenset({"subscriber", "trial"})
MAX_API_KEY_LENGTH = 256
# Lightroom's server version: a hex string "not guaranteed to be sequential" (LR swagger).
VERSION = hashlib.sha1(f"mock-ims {__version__}".encode(), usedforsecurity=False).hexdigest()


class LightroomResponse(Response):
    """JSON behind `while (1) {}` and a newline, as lr.adobe.io answers."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return JSON_PREFIX + json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


class LightroomError(Exception):
    """A Lightroom refusal: `{"code": ..., "description": ...}` with its status."""

    def __init__(
        self,
        status_code: int,
        code: int | str,
        description: str,
        *,
        reason: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.code = code
        self.description = description
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> LightroomResponse:
        body = {"code": self.code, "description": self.description}
        return LightroomResponse(body, status_code=self.status_code, headers=self.headers)


def api_key_required() -> LightroomError:
    return LightroomError(403, "403000", "Api Key is required", reason="X-API-Key header missing")


def api_key_invalid(key: str) -> LightroomError:
    shown = key if len(key) <= 64 else f"{key[:64]}..."
    return LightroomError(
        403, "403003", "Api Key is invalid", reason=f"X-API-Key {shown!r} is no known client"
    )


def unauthorized(reason: str) -> LightroomError:
    # The LR swagger documents 401 without a body; this body is the mock's guess.
    return LightroomError(
        401, 401, "Unauthorized", reason=reason, headers={"WWW-Authenticate": 'Bearer realm="lightroom"'}
    )


def forbidden(reason: str) -> LightroomError:
    """403 4300: what Lightroom answers an expired access token (docs/ims-facts.md §6)."""
    return LightroomError(403, 4300, "Access is forbidden", reason=reason)


def not_permitted(reason: str) -> LightroomError:
    """403 1016 for a token that is valid but not usable here (no lr_partner_apis, another
    client's, a technical account's). Lightroom documents 1016 "Requested operation not
    permitted"; which code it uses for these cases is a guess. Not 4300, which partners rightly
    read as "expired, refresh": a refresh cannot fix these."""
    return LightroomError(403, 1016, "Requested operation not permitted", reason=reason)


def forbidden_by_account_state(status: str) -> LightroomError:
    return LightroomError(
        403,
        4301,
        "Access forbidden due to account state of resource owner",
        reason=f"entitlement {status!r} may not use the Lightroom APIs (only subscriber or trial)",
    )


def bad_request(description: str) -> LightroomError:
    # An unreadable request (bad query encoding, malformed credentials): the code is a guess.
    return LightroomError(400, 400, "Bad Request", reason=description)


def render_error(exc: Exception) -> Response:
    """Errors raised before the handler (unreadable parameters) in Lightroom's shape too."""
    if isinstance(exc, OAuthError):
        return bad_request(exc.description).response()
    return error_response(exc)


LightroomHandler = Callable[[Request, Params, Event], Awaitable[dict[str, Any]]]


def lightroom_endpoint(name: str) -> Callable[[LightroomHandler], Endpoint]:
    """Journal the call as `lightroom.<name>` and answer Lightroom-shaped, errors included."""

    def decorate(handler: LightroomHandler) -> Endpoint:
        async def answer(request: Request, params: Params, event: Event) -> Response:
            try:
                return LightroomResponse(await handler(request, params, event))
            except LightroomError as exc:
                event.refuse(str(exc.code), exc.reason)
                return exc.response()

        answer.__name__ = handler.__name__
        answer.__doc__ = handler.__doc__
        return ims_endpoint(f"lightroom.{name}", render=render_error)(answer)

    return decorate


async def api_key_client(ctx: Context, request: Request, event: Event) -> ClientConfig:
    """The client whose id the `X-API-Key` header carries (required on every call)."""
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        raise api_key_required()
    client = await ctx.registry.client(key) if len(key) <= MAX_API_KEY_LENGTH else None
    if client is None:
        raise api_key_invalid(key)
    event.client_id = client.client_id
    return client


async def lightroom_user(
    ctx: Context, request: Request, params: Params, event: Event
) -> tuple[TokenRecord, UserConfig]:
    """The token and user behind `X-API-Key` + `Authorization: Bearer <user access token>`."""
    client = await api_key_client(ctx, request, event)
    raw = params.bearer
    if not raw:
        raise unauthorized("no bearer token (send Authorization: Bearer <access token>)")
    try:
        record = await ctx.ledger.check(raw, TokenKind.ACCESS_TOKEN, await ctx.now_ms())
    except TokenRejected as exc:
        if exc.record is not None:
            event.consumed = exc.record.id
            event.user_id = exc.record.user_id
        if exc.reason == "expired":
            # Lightroom answers an expired token with 403 4300, not 401 (docs/ims-facts.md §6).
            raise forbidden("access token expired") from exc
        raise unauthorized(f"access token {exc.reason}") from exc
    event.consumed = record.id
    event.user_id = record.user_id
    if record.client_id != client.client_id:
        raise not_permitted(
            f"the access token was issued to client {record.client_id!r}, not to the API key's"
        )
    if LIGHTROOM_SCOPE not in record.scopes:
        raise not_permitted(f"the access token lacks the {LIGHTROOM_SCOPE} scope")
    if record.user_id == technical_account_id(record.client_id):
        raise not_permitted("a technical-account (client_credentials) token has no Lightroom account")
    user = await ctx.registry.user(record.user_id)
    if user is None:
        raise unauthorized("access token of a user that no longer exists")
    return record, user


def _resource_id(kind: str, user: UserConfig) -> str:
    """A stable 32-hex Lightroom id for one of the user's resources."""
    return hashlib.sha256(f"{kind}:{user.user_id}".encode()).hexdigest()[:32]


def catalog(user: UserConfig, base: str) -> dict[str, Any]:
    """`/v2/catalog`, shaped like the LR swagger example."""
    catalog_id = _resource_id("catalog", user)
    return {
        "base": f"{base}/v2/",
        "id": catalog_id,
        "type": "catalog",
        "subtype": "lightroom",
        "created": "2019-07-02T15:16:13.556610Z",
        "updated": "2019-07-02T15:26:42.838366Z",
        "payload": {
            "userCreated": "2019-07-02T15:38:14Z",
            "userUpdated": "2019-08-16T16:05:13Z",
            "name": f"{user.display_name}'s catalog",
        },
        "links": {
            "self": {"href": f"catalogs/{catalog_id}"},
            "/rels/subtyped_albums": {
                "href": f"catalogs/{catalog_id}/albums?subtype={{subtype}}",
                "templated": True,
            },
            "/rels/subtyped_assets": {
                "href": f"catalogs/{catalog_id}/assets?subtype={{subtype}}",
                "templated": True,
            },
        },
    }


@lightroom_endpoint("health")
async def health(request: Request, params: Params, event: Event) -> dict[str, Any]:
    """Lightroom's health check: needs only the API key."""
    await api_key_client(context(request), request, event)
    return {"version": VERSION}


@lightroom_endpoint("account")
async def account(request: Request, params: Params, event: Event) -> dict[str, Any]:
    """The user's Lightroom account, entitlement included (any entitlement may read it)."""
    ctx = context(request)
    _, user = await lightroom_user(ctx, request, params, event)
    return profiles.lightroom_account(user, f"{ctx.base_url(request)}/")


@lightroom_endpoint("catalog")
async def catalog_endpoint(request: Request, params: Params, event: Event) -> dict[str, Any]:
    """The user's catalog; only subscriber and trial accounts may read it."""
    ctx = context(request)
    _, user = await lightroom_user(ctx, request, params, event)
    if user.entitlement not in ENTITLED:
        raise forbidden_by_account_state(user.entitlement)
    return catalog(user, ctx.base_url(request))


def lightroom_routes() -> list[BaseRoute]:
    return [
        Route("/v2/health", health, methods=["GET"]),
        Route("/v2/account", account, methods=["GET"]),
        Route("/v2/catalog", catalog_endpoint, methods=["GET"]),
    ]
