"""Calling the Lightroom API: `X-API-Key` on every call, the user's token as a Bearer header.

Lightroom prefixes every JSON body with `while (1) {}` (docs/ims-facts.md §6); the client strips it
with the regex Adobe's own sample uses. An expired token is answered 403 with code 4300 (or
`error_code` "4300"), an invalid one 401: both mean "refresh and try again".
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from reference_client.config import Settings
from reference_client.errors import AccessTokenRejected
from reference_client.upstream import UpstreamUnavailable, call

SERVICE = "Lightroom"
JSON_PREFIX = re.compile(rb"^while\s*\(\s*1\s*\)\s*{\s*}\s*")
EXPIRED_TOKEN_CODE = "4300"


def parse_body(body: bytes) -> Any:
    """The JSON of a Lightroom body, without its `while (1) {}` prefix; ValueError when not JSON."""
    return json.loads(JSON_PREFIX.sub(b"", body, count=1))


def _is_expired_token(body: bytes) -> bool:
    try:
        doc = parse_body(body)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    return str(doc.get("code", doc.get("error_code", ""))) == EXPIRED_TOKEN_CODE


class LightroomClient:
    ACCOUNT_PATH = "/v2/account"

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    def headers(self, access_token: str) -> dict[str, str]:
        """What every call carries: the client id as the API key, the user's token."""
        return {
            "X-API-Key": self.settings.client_id,
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
        }

    async def account(self, access_token: str) -> dict[str, Any]:
        response = await call(
            self.http,
            SERVICE,
            "GET",
            self.settings.lightroom_base_url + self.ACCOUNT_PATH,
            time_limit=self.settings.http_timeout,
            headers=self.headers(access_token),
        )
        if response.status_code == 401 or (response.status_code == 403 and _is_expired_token(response.body)):
            raise AccessTokenRejected(SERVICE, response.status_code)
        if response.status_code != 200:
            raise UpstreamUnavailable(SERVICE, f"the account endpoint answered HTTP {response.status_code}")
        try:
            doc = parse_body(response.body)
        except ValueError:
            raise UpstreamUnavailable(SERVICE, "answered a body that is not JSON") from None
        if not isinstance(doc, dict):
            raise UpstreamUnavailable(SERVICE, "answered JSON that is not an object")
        return doc
