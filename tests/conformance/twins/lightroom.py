"""Twins that call Lightroom wrongly: without the API key, or giving up on an expired token."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.errors import AccessTokenRejected
from reference_client.lightroom import LightroomClient
from reference_client.upstream import UpstreamUnavailable
from tests.conformance.twins.assembly import app_of, standard
from tests.conformance.twins.registry import twin


def _with_lightroom(settings: Settings, kind: type[LightroomClient]) -> ASGIApp:
    parts = standard(settings)
    parts.lightroom = kind(settings, parts.http)
    return app_of(settings, parts)


class NoApiKey(LightroomClient):
    def headers(self, access_token: str) -> dict[str, str]:
        return {k: v for k, v in super().headers(access_token).items() if k != "X-API-Key"}


class GiveUpOnExpired(LightroomClient):
    async def account(self, access_token: str) -> dict[str, Any]:
        try:
            return await super().account(access_token)
        except AccessTokenRejected:
            raise UpstreamUnavailable("Lightroom", "it refused the access token") from None


@twin("lightroom-no-api-key", breaks="lightroom.api-key", flaw="calls Lightroom without the X-API-Key header")
def lightroom_no_api_key(settings: Settings) -> ASGIApp:
    return _with_lightroom(settings, NoApiKey)


@twin(
    "lightroom-expired-given-up",
    breaks="lightroom.expired",
    flaw="shows Lightroom as unavailable when it answers 403 4300, instead of refreshing and retrying",
)
def lightroom_expired_given_up(settings: Settings) -> ASGIApp:
    return _with_lightroom(settings, GiveUpOnExpired)
