"""Twins that use their tokens wrongly: refresh never, too often, with a spent refresh token,
crash or show stale data when the grant is revoked, and keep the grant alive at logout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.errors import LoginRequired
from reference_client.ims import IMSClient
from reference_client.token_manager import TokenManager
from reference_client.tokens import TokenSet
from tests.conformance.twins.assembly import Endpoint, app_of, standard, with_ims, wrap_route
from tests.conformance.twins.registry import twin

T = TypeVar("T")


def _with_tokens(settings: Settings, kind: type[TokenManager]) -> Starlette:
    parts = standard(settings)
    parts.tokens = kind(parts.token_store, parts.ims, parts.clock)
    return app_of(settings, parts)


class NeverRefresh(TokenManager):
    async def refresh(self, user_id: str, stale_access_token: str) -> TokenSet:
        await self.store.delete(user_id)
        raise LoginRequired("this app signs the user in again instead of refreshing")


@twin(
    "refresh-never",
    breaks="refresh.on-expiry",
    flaw="sends the user to sign in again when the access token expires",
)
def refresh_never(settings: Settings) -> ASGIApp:
    return _with_tokens(settings, NeverRefresh)


class IgnoreRotatedRefreshToken(IMSClient):
    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        body = await super().refresh(refresh_token)
        body.pop("refresh_token", None)  # so the app keeps the refresh token it already had
        return body


@twin(
    "refresh-token-reused",
    breaks="refresh.rotation",
    flaw="keeps its first refresh token and presents it again after IMS rotated it",
)
def refresh_token_reused(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    return app_of(settings, with_ims(parts, IgnoreRotatedRefreshToken(settings, parts.http, parts.clock)))


class RefreshEveryTime(TokenManager):
    async def access_token(self, user_id: str) -> str:
        stored = await self.store.load(user_id)
        if stored is None:
            raise LoginRequired("no stored tokens")
        # "Always fresh": a new access token for every page, valid or not.
        return (await self.refresh(user_id, stored.tokens.access_token)).access_token


@twin("refresh-storm", breaks="refresh.no-storm", flaw="refreshes on every page view, valid token or not")
def refresh_storm(settings: Settings) -> ASGIApp:
    return _with_tokens(settings, RefreshEveryTime)


class CrashOnRevokedGrant(TokenManager):
    """Assumes a refresh always works."""

    async def refresh(self, user_id: str, stale_access_token: str) -> TokenSet:
        try:
            return await super().refresh(user_id, stale_access_token)
        except LoginRequired as exc:
            # Refused (invalid_grant), or the tokens already deleted by a request that was.
            raise RuntimeError(f"the refresh failed: {exc}") from exc  # nobody catches it: a 500


@twin(
    "refresh-revoked-crash",
    breaks="refresh.revoked",
    flaw="assumes a refresh always works: 500 when IMS refuses the refresh token",
)
def refresh_revoked_crash(settings: Settings) -> ASGIApp:
    return _with_tokens(settings, CrashOnRevokedGrant)


class LastKnownGood(TokenManager):
    """Shows what it fetched last when the tokens are gone, 'so the page never breaks'."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.last: dict[tuple[str, str], Any] = {}

    async def call(self, user_id: str, use: Callable[[str], Awaitable[T]]) -> T:
        key = (user_id, getattr(use, "__qualname__", repr(use)))
        try:
            result = await super().call(user_id, use)
        except LoginRequired:
            if key in self.last:
                cached: T = self.last[key]
                return cached
            raise
        self.last[key] = result
        return result


@twin(
    "refresh-revoked-stale",
    breaks="refresh.revoked",
    flaw="when IMS refuses the refresh token, shows the last profile it fetched",
)
def refresh_revoked_stale(settings: Settings) -> ASGIApp:
    return _with_tokens(settings, LastKnownGood)


class ForgetWithoutRevoking(TokenManager):
    async def sign_out(self, user_id: str) -> bool:
        async with self.lock_for(user_id):
            await self.store.delete(user_id)
        return True


@twin("logout-no-revoke", breaks="logout.revokes", flaw="logout deletes the tokens here but never tells IMS")
def logout_no_revoke(settings: Settings) -> ASGIApp:
    return _with_tokens(settings, ForgetWithoutRevoking)


# The request a task works for: the calls one page makes side by side still share a lock.
_REQUEST: ContextVar[object | None] = ContextVar("twin_request", default=None)


class LockPerRequest(TokenManager):
    def lock_for(self, user_id: str) -> anyio.Lock:
        return super().lock_for(f"{user_id} {id(_REQUEST.get())}")


async def _own_request(request: Request, original: Endpoint) -> Response:
    marker = _REQUEST.set(object())
    try:
        return await original(request)
    finally:
        _REQUEST.reset(marker)


@twin(
    "refresh-race",
    breaks="refresh.concurrent",
    flaw="refreshes under a lock per request, so two tabs refresh at once with the same refresh token",
)
def refresh_race(settings: Settings) -> ASGIApp:
    return wrap_route(_with_tokens(settings, LockPerRequest), "/profile", _own_request)
