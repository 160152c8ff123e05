"""`/__admin/users` and `/__admin/clients`: list, add, change and remove at run time.

Removing a user or a client revokes every token issued to it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.config import ClientConfig, ConfigError, UserConfig
from mock_ims.control.admin.common import AdminError, checked, json_body
from mock_ims.protocol.bodies import ClientPatch, ClientReplacement, ClientRequest, UserPatch, UserRequest
from mock_ims.state.context import Context, context


def _public_client(client: ClientConfig) -> dict[str, Any]:
    return client.to_dict()


async def _find_user(ctx: Context, ref: str) -> UserConfig:
    user = await ctx.registry.find_user(ref)
    if user is None:
        raise AdminError(f"no user {ref!r}", 404, "not_found")
    return user


async def users(request: Request) -> Response:
    """GET: every user; POST: add one (201; 409 when the email or id exists)."""
    ctx = context(request)
    if request.method == "POST":
        try:
            user = UserConfig.from_dict(
                checked(UserRequest, await json_body(request)).model_dump(exclude_unset=True)
            )
        except ConfigError as exc:
            raise AdminError(str(exc)) from exc
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
    checked(UserPatch if request.method == "PATCH" else UserRequest, data)
    merged = {**current.to_dict(), **data} if request.method == "PATCH" else data
    if merged.get("user_id", current.user_id) != current.user_id:
        raise AdminError("user_id: cannot be changed; remove the user and add a new one")
    merged["user_id"] = current.user_id
    try:
        updated = UserConfig.from_dict(merged)
    except ConfigError as exc:
        raise AdminError(str(exc)) from exc
    other = await ctx.registry.user_by_email(updated.email)
    if other is not None and other.user_id != current.user_id:
        raise AdminError(f"email {updated.email!r} belongs to another user", 409, "conflict")
    await ctx.registry.put_user(updated)
    return JSONResponse(updated.to_dict())


async def clients(request: Request) -> Response:
    """GET: every client; POST: register one (201; 409 when the id exists)."""
    ctx = context(request)
    if request.method == "POST":
        try:
            client = ClientConfig.from_dict(
                checked(ClientRequest, await json_body(request)).model_dump(exclude_unset=True)
            )
        except ConfigError as exc:
            raise AdminError(str(exc)) from exc
        if not await ctx.registry.add_client(client):
            raise AdminError(f"client {client.client_id!r} already exists", 409, "conflict")
        return JSONResponse(_public_client(client), status_code=201)
    return JSONResponse({"clients": [_public_client(c) for c in await ctx.registry.clients()]})


async def client(request: Request) -> Response:
    """GET/PUT/PATCH/DELETE `/__admin/clients/{client_id}`."""
    ctx = context(request)
    client_id = request.path_params["client_id"]
    current = await ctx.registry.client(client_id)
    if current is None:
        raise AdminError(f"no client {client_id!r}", 404, "not_found")
    if request.method == "GET":
        return JSONResponse(_public_client(current))
    if request.method == "DELETE":
        await ctx.registry.remove_client(client_id)
        await ctx.ledger.revoke_where(await ctx.now_ms(), "client removed", client_id=client_id)
        return Response(status_code=204)
    # PUT replaces the whole document: an empty body is no replacement.
    data = await json_body(request, required=request.method == "PUT")
    checked(ClientPatch if request.method == "PATCH" else ClientReplacement, data)
    merged = {**current.to_dict(), **data} if request.method == "PATCH" else data
    if merged.get("client_id", client_id) != client_id:
        raise AdminError("client_id: cannot be changed; remove the client and add a new one")
    merged["client_id"] = client_id
    try:
        updated = ClientConfig.from_dict(merged)
    except ConfigError as exc:
        raise AdminError(str(exc)) from exc
    await ctx.registry.put_client(updated)
    return JSONResponse(_public_client(updated))
