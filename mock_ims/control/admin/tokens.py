"""`/__admin/tokens`: every code and token issued; mint them without a browser; revoke them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.config import ClientConfig, UserConfig
from mock_ims.control.admin.common import AdminError, body_as, checked, json_body
from mock_ims.protocol import jws, pkce, redirects
from mock_ims.protocol.bodies import MintRequest, RevokeRequest
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.clock import to_iso
from mock_ims.state.context import Context, context
from mock_ims.state.issuance import Grant, issue_code, issue_tokens

KINDS = tuple(k.value for k in TokenKind)


def token_view(record: TokenRecord, now_ms: int) -> dict[str, Any]:
    """A record as the admin API shows it: raw value, decoded header and claims, and its fate."""
    try:
        header, claims = jws.unverified(record.raw)
    except jws.JWSError:  # pragma: no cover - the mock only stores what it signed
        header, claims = {}, {}
    return {
        "id": record.id,
        "kind": record.kind,
        "raw": record.raw,
        "header": header,
        "claims": claims,
        "client_id": record.client_id,
        "user_id": record.user_id,
        "scope": record.scope,
        "family": record.family,
        "parent": record.parent,
        "created": to_iso(record.created_ms),
        "created_ms": record.created_ms,
        "expires": to_iso(record.expires_ms),
        "expires_ms": record.expires_ms,
        "expired": now_ms >= record.expires_ms,
        "used": record.used_ms is not None,
        "used_at": to_iso(record.used_ms) if record.used_ms is not None else None,
        "revoked": record.revoked_ms is not None,
        "revoked_at": to_iso(record.revoked_ms) if record.revoked_ms is not None else None,
        "revoked_reason": record.revoked_reason,
        "redirect_uri": record.redirect_uri,
        "minted_by": record.minted_by,
    }


async def _user_id(ctx: Context, ref: str | None) -> str | None:
    if ref is None:
        return None
    user = await ctx.registry.find_user(ref)
    if user is None:
        # a removed user's tokens can still be listed by id
        return ref
    return user.user_id


async def tokens(request: Request) -> Response:
    """GET: every code and token (filters: client_id, user, kind, live); POST: mint one."""
    ctx = context(request)
    if request.method == "POST":
        return JSONResponse(await mint(ctx, await json_body(request)), status_code=201)
    query = request.query_params
    kind = query.get("kind")
    if kind is not None and kind not in KINDS:
        raise AdminError(f"kind: must be one of {', '.join(KINDS)}")
    live = query.get("live")
    if live not in (None, "true", "false"):
        raise AdminError("live: must be true or false")
    user_id = await _user_id(ctx, query.get("user") or query.get("user_id"))
    client_id = query.get("client_id")
    now_ms = await ctx.now_ms()
    views = []
    for record in await ctx.ledger.all():
        if kind is not None and record.kind != kind:
            continue
        if client_id is not None and record.client_id != client_id:
            continue
        if user_id is not None and record.user_id != user_id:
            continue
        view = token_view(record, now_ms)
        is_live = not (view["expired"] or view["revoked"] or view["used"])
        if live is not None and is_live != (live == "true"):
            continue
        views.append(view)
    return JSONResponse({"tokens": views, "count": len(views)})


def _scopes(wanted: str | list[str] | None, client: ClientConfig) -> tuple[str, ...]:
    if wanted is None:
        return client.scopes
    try:
        scopes = parse_scope(",".join(wanted) if isinstance(wanted, list) else wanted)
    except ScopeError as exc:
        raise AdminError(f"scope: {exc}") from exc
    not_allowed = [s for s in scopes if s not in client.scopes]
    if not_allowed:
        raise AdminError(f"scope: {not_allowed[0]} is not allowed for client {client.client_id}")
    return scopes


async def _client(ctx: Context, wanted: MintRequest) -> ClientConfig:
    client_id = wanted.client_id or ctx.config.default_client.client_id
    client = await ctx.registry.client(client_id)
    if client is None:
        raise AdminError(f"client_id: no client {client_id!r}", 404, "not_found")
    if wanted.lifetime is not None:
        lifetimes = {"access_token_lifetime": wanted.lifetime, "refresh_token_lifetime": wanted.lifetime}
        client = ClientConfig.from_dict({**client.to_dict(), **lifetimes})
    return client


async def _user(ctx: Context, wanted: MintRequest) -> UserConfig | None:
    if wanted.user is None:
        if wanted.kind != TokenKind.ACCESS_TOKEN.value:
            raise AdminError(f"user: required to mint an {wanted.kind} (email or user id)")
        return None  # an access token of a technical account
    user = await ctx.registry.find_user(wanted.user)
    if user is None:
        raise AdminError(f"user: no user {wanted.user!r}", 404, "not_found")
    return user


def _challenge(client: ClientConfig, wanted: MintRequest) -> tuple[str, str | None, str | None]:
    """The code's redirect URI and PKCE challenge with its method."""
    if not wanted.redirect_uri:
        raise AdminError("redirect_uri: required to mint an authorization code")
    if not redirects.matches(client, wanted.redirect_uri):
        raise AdminError(f"redirect_uri: matches none of client {client.client_id}'s redirect URI patterns")
    challenge = wanted.code_challenge
    method = wanted.code_challenge_method or ("plain" if challenge else None)
    if challenge is not None and (method is None or not pkce.is_valid_challenge(challenge, method)):
        raise AdminError("code_challenge: malformed for its method (S256 or plain)")
    return wanted.redirect_uri, challenge, method


def _minted(kind: str, record: TokenRecord) -> dict[str, Any]:
    return {"kind": kind, "id": record.id, "token": record.raw, "expires": to_iso(record.expires_ms)}


async def _mint_code(
    ctx: Context, wanted: MintRequest, client: ClientConfig, user: UserConfig, scopes: tuple[str, ...]
) -> dict[str, Any]:
    redirect_uri, challenge, method = _challenge(client, wanted)
    record = await issue_code(
        ctx,
        client=client,
        user=user,
        scopes=scopes,
        redirect_uri=redirect_uri,
        redirect_uri_sent=True,
        state=wanted.state or "",
        nonce=wanted.nonce,
        code_challenge=challenge,
        code_challenge_method=method,
        sid=None,
        now_ms=await ctx.now_ms(),
        minted_by="admin",
    )
    return _minted(wanted.kind, record)


async def _mint_tokens(
    ctx: Context, wanted: MintRequest, client: ClientConfig, user: UserConfig | None, scopes: tuple[str, ...]
) -> dict[str, Any]:
    with_refresh = wanted.kind == TokenKind.REFRESH_TOKEN.value
    grant = Grant(client, user, scopes, ctx.config.issuer or "", await ctx.now_ms(), state=wanted.state or "")
    issued = await issue_tokens(ctx, grant, with_refresh=with_refresh, with_id_token=False, minted_by="admin")
    if issued.refresh is None:
        return _minted(wanted.kind, issued.access)
    return {**_minted(wanted.kind, issued.refresh), "access_token": issued.access.raw}


async def mint(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Issue a code or token as if the user had signed in, without a browser."""
    wanted = checked(MintRequest, data)
    client = await _client(ctx, wanted)
    user = await _user(ctx, wanted)
    scopes = _scopes(wanted.scope, client)
    if wanted.kind != TokenKind.AUTHORIZATION_CODE.value:
        return await _mint_tokens(ctx, wanted, client, user, scopes)
    if user is None:  # pragma: no cover - _user refused it; narrows the type
        raise AdminError("user: required to mint an authorization_code")
    return await _mint_code(ctx, wanted, client, user, scopes)


async def revoke(request: Request) -> Response:
    """POST `{"user"}`, `{"client_id"}`, `{"token_id"}` or `{"token"}` (combined: all must match)."""
    ctx = context(request)
    wanted = await body_as(request, RevokeRequest)
    token_id = wanted.token_id
    if wanted.token is not None:
        try:
            token_id = str(ctx.signer.verify(wanted.token).get("id"))
        except jws.JWSError as exc:
            raise AdminError(f"token: not a token of this mock ({exc})") from exc
    user_id = await _user_id(ctx, wanted.user)
    now_ms = await ctx.now_ms()
    revoked = []
    for record in await ctx.ledger.all():
        if token_id is not None and record.id != token_id:
            continue
        if user_id is not None and record.user_id != user_id:
            continue
        if wanted.client_id is not None and record.client_id != wanted.client_id:
            continue
        if wanted.kind is not None and record.kind != wanted.kind:
            continue
        if await ctx.ledger.revoke(record.id, now_ms, "revoked through the admin API"):
            revoked.append(record.id)
    return JSONResponse({"revoked": revoked})


async def reset(request: Request) -> Response:
    """POST: back to the configured state (journal, tokens, sessions, faults, clock).

    The lease (`/__admin/lease`) is kept: its holder resets the mock between its own steps.
    """
    await context(request).reset()
    return JSONResponse({"reset": True})
