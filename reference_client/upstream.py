"""Calling IMS and Lightroom: every call bounded in time and in size.

httpx's timeout bounds each network step; the overall deadline bounds the whole call, so a
server that trickles a byte at a time cannot hold a request forever. Bodies larger than
`MAX_BODY_BYTES` are refused. Failures become `UpstreamUnavailable`, whose message never holds a
body (a body could hold a token).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

MAX_BODY_BYTES = 1 << 20


class UpstreamUnavailable(Exception):
    """The service could not be reached, was too slow, or answered something unreadable."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


@dataclass(frozen=True)
class UpstreamResponse:
    service: str
    status_code: int
    headers: httpx.Headers
    body: bytes = field(repr=False)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamUnavailable(
                self.service, f"answered HTTP {self.status_code} with a body that is not JSON"
            ) from None

    def json_object(self) -> dict[str, Any]:
        value = self.json()
        if not isinstance(value, dict):
            raise UpstreamUnavailable(
                self.service, f"answered HTTP {self.status_code} with JSON that is not an object"
            )
        return value


async def call(
    http: httpx.AsyncClient,
    service: str,
    method: str,
    url: str,
    *,
    time_limit: float,
    **kwargs: Any,
) -> UpstreamResponse:
    """One request; `UpstreamUnavailable` when it fails, times out, or answers too much."""
    try:
        with anyio.fail_after(time_limit):
            async with http.stream(
                method, url, timeout=time_limit, follow_redirects=False, **kwargs
            ) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise UpstreamUnavailable(service, f"answered more than {MAX_BODY_BYTES} bytes")
                return UpstreamResponse(service, response.status_code, response.headers, bytes(body))
    except TimeoutError:
        raise UpstreamUnavailable(service, f"did not answer within {time_limit:g} s") from None
    except httpx.TimeoutException:
        raise UpstreamUnavailable(service, f"did not answer within {time_limit:g} s") from None
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(service, f"could not be reached ({type(exc).__name__})") from None
