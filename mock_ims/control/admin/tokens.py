"""`/__admin/tokens`: every code and token issued; mint them without a browser; revoke them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.config import MAX_LIFETIME_SECONDS, ClientConfig, UserConfig
from mock_ims.control.admin.common import AdminError, json_body
from mock_ims.protocol import jws, pkce, redirects
from mock_ims.protocol.scopes import ScopeError, parse_scope
from mock_ims.protocol.tokens import TokenKind, TokenRecord
from mock_ims.state.clock import to_iso
from mock_ims.state.context import Context, context
from mock_ims.state.issuance import Grant, issue_code, issue_tokens

KINDS = tuple(k.value for k in TokenKind)
MINT_FIELDS = frozenset(
    {
        "kind",
        "user",
        "client_id",
        "scope",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "lifetime",
    }
)


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


def _string(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise AdminError(f"{name}: must be a string")
    return value


def _scopes(data: dict[str, Any], client: ClientConfig) -> tuple[str, ...]:
    raw = data.get("scope")
    if raw is None:
        return client.scopes
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        raw = ",".join(raw)
    if not isinstance(raw, str):
        raise AdminError("scope: must be a string (comma- or space-separated) or a list of strings")
    try:
        scopes = parse_scope(raw)
    except ScopeError as exc:
        raise AdminError(f"scope: {exc}") from exc
    not_allowed = [s for s in scopes if s not in client.scopes]
    if not_allowed:
        raise AdminError(f"scope: {not_allowed[0]} is not allowed for client {client.client_id}")
    return scopes


async def mint(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Issue a code or token as if the user had signed in, without a browser."""
    unknown = sorted(set(data) - MINT_FIELDS)
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}; fields: {', '.join(sorted(MINT_FIELDS))}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise AdminError(f"kind: required, one of {', '.join(KINDS)}")
    for name in MINT_FIELDS - {"kind", "scope", "lifetime"}:
        _string(data, name)  # checked even where the kind does not use the field
    if data.get("code_challenge_method") not in (None, *pkce.METHODS):
        raise AdminError(f"code_challenge_method: must be one of {', '.join(pkce.METHODS)}")
    client_id = _string(data, "client_id") or ctx.config.default_client.client_id
    client = await ctx.registry.client(client_id)
    if client is None:
        raise AdminError(f"client_id: no client {client_id!r}", 404, "not_found")
    user_ref = _string(data, "user")
    user: UserConfig | None = None
    if user_ref is not None:
        user = await ctx.registry.find_user(user_ref)
        if user is None:
            raise AdminError(f"user: no user {user_ref!r}", 404, "not_found")
    elif kind != TokenKind.ACCESS_TOKEN.value:
        raise AdminError(f"user: required to mint an {kind} (email or user id)")
    scopes = _scopes(data, client)
    lifetime = data.get("lifetime")
    if lifetime is not None and (
        isinstance(lifetime, bool)
        or not isinstance(lifetime, int)
        or not 1 <= lifetime <= MAX_LIFETIME_SECONDS
    ):
        raise AdminError(f"lifetime: must be a whole number of seconds from 1 to {MAX_LIFETIME_SECONDS}")
    now_ms = await ctx.now_ms()
    state = _string(data, "state") or ""

    if kind == TokenKind.AUTHORIZATION_CODE.value:
        if user is None:  # pragma: no cover - refused above; narrows the type
            raise AdminError("user: required to mint an authorization_code")
        redirect_uri = _string(data, "redirect_uri")
        if not redirect_uri:
            raise AdminError("redirect_uri: required to mint an authorization code")
        if not redirects.matches(client, redirect_uri):
            raise AdminError(
                f"redirect_uri: matches none of client {client.client_id}'s redirect URI patterns"
            )
        challenge = _string(data, "code_challenge")
        method = _string(data, "code_challenge_method") or ("plain" if challenge else None)
        if challenge is not None and (
            method not in pkce.METHODS or not pkce.is_valid_challenge(challenge, method)
        ):
            raise AdminError("code_challenge: malformed for its method (S256 or plain)")
        record = await issue_code(
            ctx,
            client=client,
            user=user,
            scopes=scopes,
            redirect_uri=redirect_uri,
            redirect_uri_sent=True,
            state=state,
            nonce=_string(data, "nonce"),
            code_challenge=challenge,
            code_challenge_method=method,
            sid=None,
            now_ms=now_ms,
            minted_by="admin",
        )
        return {"kind": kind, "id": record.id, "token": record.raw, "expires": to_iso(record.expires_ms)}

    if lifetime is not None:
        client = ClientConfig.from_dict(
            {**client.to_dict(), "access_token_lifetime": lifetime, "refresh_token_lifetime": lifetime}
        )
    with_refresh = kind == TokenKind.REFRESH_TOKEN.value
    grant = Grant(client, user, scopes, ctx.config.issuer or "", now_ms, state=state)
    issued = await issue_tokens(ctx, grant, with_refresh=with_refresh, with_id_token=False, minted_by="admin")
    record = issued.refresh if issued.refresh is not None else issued.access
    answer = {"kind": kind, "id": record.id, "token": record.raw, "expires": to_iso(record.expires_ms)}
    if with_refresh:
        answer["access_token"] = issued.access.raw
    return answer


async def revoke(request: Request) -> Response:
    """POST `{"user"}`, `{"client_id"}`, `{"token_id"}` or `{"token"}` (combined: all must match)."""
    ctx = context(request)
    data = await json_body(request)
    fields = {"user", "client_id", "token_id", "token", "kind"}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise AdminError(f"unknown field {unknown[0]!r}; fields: {', '.join(sorted(fields))}")
    # A null selector selects nothing: it must not widen the revocation to every token.
    given = {name for name, value in data.items() if value is not None}
    if not {"user", "client_id", "token_id", "token"} & given:
        raise AdminError("say what to revoke: user, client_id, token_id or token")
    now_ms = await ctx.now_ms()
    token_id = _string(data, "token_id")
    raw = _string(data, "token")
    if raw is not None:
        try:
            token_id = str(ctx.signer.verify(raw).get("id"))
        except jws.JWSError as exc:
            raise AdminError(f"token: not a token of this mock ({exc})") from exc
    kind = _string(data, "kind")
    if kind is not None and kind not in KINDS:
        raise AdminError(f"kind: must be one of {', '.join(KINDS)}")
    user_id = await _user_id(ctx, _string(data, "user"))
    client_id = _string(data, "client_id")
    revoked = []
    for record in await ctx.ledger.all():
        if token_id is not None and record.id != token_id:
            continue
        if user_id is not None and record.user_id != user_id:
            continue
        if client_id is not None and record.client_id != client_id:
            continue
        if kind is not None and record.kind != kind:
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
