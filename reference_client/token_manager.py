"""Using a user's tokens: a valid access token on demand, one refresh at a time, clean sign-out.

The access token is refreshed when it has expired by its own clock (`created_at` +
`expires_in`), or when an API refuses it. Requests of one user share one lock, so however many
arrive with an expired token, IMS sees a single refresh (a rotated refresh token used twice
would revoke the whole grant, RFC 9700 §4.14.2). Whoever waited on the lock finds the new
tokens already stored and uses them. The rotated refresh token is stored in the same write as
the new access token. IMS answering `invalid_grant` means the grant is gone: the tokens are
deleted and the user must sign in again.

The lock lives in this process; the reference client runs as one process. The compare-and-swap
in `TokenStore.save` keeps a second process from overwriting newer tokens with older ones.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from reference_client.clock import Clock
from reference_client.errors import AccessTokenRejected, LoginRequired
from reference_client.ims import IMSClient, IMSRefused, InvalidGrant
from reference_client.token_store import TokenStore
from reference_client.tokens import TokenResponseError, TokenSet, from_token_response
from reference_client.upstream import UpstreamUnavailable

logger = logging.getLogger("reference_client.tokens")

T = TypeVar("T")


class TokenManager:
    def __init__(self, store: TokenStore, ims: IMSClient, clock: Clock) -> None:
        self.store = store
        self.ims = ims
        self.clock = clock
        self._locks: weakref.WeakValueDictionary[str, anyio.Lock] = weakref.WeakValueDictionary()

    def lock_for(self, user_id: str) -> anyio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = anyio.Lock()
            self._locks[user_id] = lock
        return lock

    async def start(self, user_id: str, tokens: TokenSet) -> None:
        """Store the tokens of a fresh login, replacing any the user had."""
        async with self.lock_for(user_id):
            await self.store.save(user_id, tokens)

    async def access_token(self, user_id: str) -> str:
        stored = await self.store.load(user_id)
        if stored is None:
            raise LoginRequired("no stored tokens")
        if stored.tokens.expired(self.clock.now_ms()):
            return (await self.refresh(user_id, stored.tokens.access_token)).access_token
        return stored.tokens.access_token

    async def refresh(self, user_id: str, stale_access_token: str) -> TokenSet:
        """New tokens in place of `stale_access_token`; one refresh at a time per user."""
        async with self.lock_for(user_id):
            stored = await self.store.load(user_id)
            if stored is None:
                raise LoginRequired("no stored tokens")
            now = self.clock.now_ms()
            if stored.tokens.access_token != stale_access_token and not stored.tokens.expired(now):
                return stored.tokens  # refreshed by another request while this one waited
            refresh_token = stored.tokens.refresh_token
            if refresh_token is None:
                await self.store.delete(user_id)
                raise LoginRequired("the access token expired and there is no refresh token")
            try:
                body = await self.ims.refresh(refresh_token)
            except InvalidGrant as exc:
                # RFC 6749 §5.2: the refresh token is expired, revoked or already used.
                await self.store.delete(user_id)
                raise LoginRequired("IMS refused the refresh token") from exc
            tokens = parse_token_response(body, now, previous_refresh=refresh_token)
            if not await self.store.save(user_id, tokens, replacing=stored.version):
                newer = await self.store.load(user_id)
                if newer is None:
                    raise LoginRequired("the tokens were deleted during the refresh")
                return newer.tokens
            logger.info("refreshed the access token of a user")
            return tokens

    async def call(self, user_id: str, use: Callable[[str], Awaitable[T]]) -> T:
        """`use(access_token)`; refreshed and tried once more if the API refuses the token."""
        token = await self.access_token(user_id)
        try:
            return await use(token)
        except AccessTokenRejected as exc:
            logger.info("%s; refreshing", exc)
            fresh = await self.refresh(user_id, token)
        return await use(fresh.access_token)

    async def sign_out(self, user_id: str) -> bool:
        """Delete the user's tokens and revoke them at IMS (RFC 7009); False if IMS could not be told."""
        async with self.lock_for(user_id):
            stored = await self.store.load(user_id)
            await self.store.delete(user_id)
        if stored is None:
            return True
        return await self.revoke(stored.tokens)

    async def revoke(self, tokens: TokenSet) -> bool:
        # The refresh token first: at IMS it takes the access tokens of its grant with it.
        revoked = True
        pairs = [(tokens.refresh_token, "refresh_token"), (tokens.access_token, "access_token")]
        for token, hint in pairs:
            if token is None:
                continue
            try:
                await self.ims.revoke(token, hint)
            except (IMSRefused, UpstreamUnavailable) as exc:
                logger.warning("could not revoke a %s: %s", hint.replace("_", " "), exc)
                revoked = False
        return revoked


def parse_token_response(
    body: dict[str, Any], now_ms: int, *, previous_refresh: str | None = None
) -> TokenSet:
    try:
        return from_token_response(body, now_ms, previous_refresh=previous_refresh)
    except TokenResponseError as exc:
        raise UpstreamUnavailable("IMS", str(exc)) from None
