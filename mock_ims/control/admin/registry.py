"""`/__admin/users` and `/__admin/clients`: list, add, change and remove at run time.

A body is read by the model a configuration table is (`ClientConfig.from_dict`), once: a PATCH is
the current document with the body's fields over it. Removing a user or a client revokes every
token issued to it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.config import ClientConfig, ConfigError, UserConfig
from mock_ims.control.admin.common import AdminError, json_body
from mock_ims.state.context import Context, context


def _user(data: dict[str, Any]) -> UserConfig:
    try:
        return UserConfig.from_dict(data)
    except ConfigError as exc:
        raise AdminError(str(exc)) from exc


def _client(data: dict[str, Any]) -> ClientConfig:
    try:
        return ClientConfig.from_dict(data)
    except ConfigError as exc:
        raise AdminError(str(exc)) from exc


async def _find_user(ctx: Context, ref: str) -> UserConfig:
    user = await ctx.registry.find_user(ref)
    if user is None:
        raise AdminError(f"no user {ref!r}", 404, "not_found")
    return user


async def users(request: Request) -> Response:
    """GET: every user; POST: add one (201; 409 when the email or id exists)."""
    ctx = context(request)
    if request.method == "POST":
        user = _user(await json_body(request))
        if await ctx.registry.user_by_email(user.email) or not await ctx.registry.add_user(user):
            raise AdminError(f"user {user.email!r} already exists", 409, "conflict")
        return JSONResponse(user.to_dict(), status_code=201)
    return JSONResponse({"users": [u.to_dict() for u in await ctx.registry.users()]})


async def user(request: Request) -> Response:
    """GET/PUT/PATCH/DELETE `/__admin/users/{id or email}`."""
    ctx = context(request)
    current = await _find_user(ctx, request.path_params["ref"])
    if request.method == "GET":
        return JSONResponse(current.to_dict())
    if request.method == "DELETE":
        await ctx.registry.remove_user(current.user_id)
        await ctx.ledger.revoke_where(await ctx.now_ms(), "user removed", user_id=current.user_id)
        return Response(status_code=204)
    # PUT replaces the whole document: an empty body is no replacement.
    data = await json_body(request, required=request.method == "PUT")
    merged = {**current.to_dict(), **data} if request.method == "PATCH" else data
    if merged.get("user_id", current.user_id) != current.user_id:
        raise AdminError("user_id: cannot be changed; remove the user and add a new one")
    merged["user_id"] = current.user_id
    updated = _user(merged)
    other = await ctx.registry.user_by_email(updated.email)
    if other is not None and other.user_id != current.user_id:
        raise AdminError(f"email {updated.email!r} belongs to another user", 409, "conflict")
    await ctx.registry.put_user(updated)
    return JSONResponse(updated.to_dict())


async def clients(request: Request) -> Response:
    """GET: every client; POST: register one (201; 409 when the id exists)."""
    ctx = context(request)
    if request.method == "POST":
        client = _client(await json_body(request))
        if not await ctx.registry.add_client(client):
            raise AdminError(f"client {client.client_id!r} already exists", 409, "conflict")
        return JSONResponse(client.to_dict(), status_code=201)
    return JSONResponse({"clients": [c.to_dict() for c in await ctx.registry.clients()]})


async def client(request: Request) -> Response:
    """GET/PUT/PATCH/DELETE `/__admin/clients/{client_id}`."""
    ctx = context(request)
    client_id = request.path_params["client_id"]
    current = await ctx.registry.client(client_id)
    if current is None:
        raise AdminError(f"no client {client_id!r}", 404, "not_found")
    if request.method == "GET":
        return JSONResponse(current.to_dict())
    if request.method == "DELETE":
        await ctx.registry.remove_client(client_id)
        await ctx.ledger.revoke_where(await ctx.now_ms(), "client removed", client_id=client_id)
        return Response(status_code=204)
    # PUT replaces the whole document: an empty body is no replacement.
    data = await json_body(request, required=request.method == "PUT")
    merged = {**current.to_dict(), **data} if request.method == "PATCH" else data
    if merged.get("client_id", client_id) != client_id:
        raise AdminError("client_id: cannot be changed; remove the client and add a new one")
    merged["client_id"] = client_id
    updated = _client(merged)
    await ctx.registry.put_client(updated)
    return JSONResponse(updated.to_dict())
