"""The IMS endpoints answer the same through `DirectRoutes` (what `mock-ims serve` runs) as
through Starlette's router and middleware (what an in-process `create_app` runs)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_ims.config import default_config
from mock_ims.serving.app import create_app, guarded
from mock_ims.serving.direct import DirectRoutes
from mock_ims.state.context import Context, Settings

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8765"
BASIC = "Basic " + base64.b64encode(b"mock-partner-app:mock-partner-secret").decode()
WRONG = "Basic " + base64.b64encode(b"mock-partner-app:wrong").decode()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

REQUESTS = [
    ("GET", "/ims/token/v3", {}, b""),
    ("PUT", "/ims/token/v3", {}, b""),
    ("DELETE", "/ims/token", {}, b""),
    ("POST", "/ims/token/v3", FORM, b""),
    ("POST", "/ims/token/v3", {**FORM, "Authorization": WRONG}, b"grant_type=client_credentials"),
    ("POST", "/ims/token/v1", {**FORM, "Authorization": BASIC}, b"grant_type=password"),
    ("POST", "/ims/token/v3", {"Content-Type": "text/plain", "Authorization": BASIC}, b"x"),
    ("GET", "/ims/keys", {}, b""),
    ("HEAD", "/ims/keys", {}, b""),
    ("POST", "/ims/keys", {}, b""),
    ("GET", "/ims/.well-known/openid-configuration", {}, b""),
    ("GET", "/.well-known/openid-configuration", {}, b""),
    ("GET", "/ims/profile/v1", {}, b""),
    ("POST", "/ims/profile/v1", {}, b""),
    ("GET", "/ims/userinfo/v2", {"Authorization": "Bearer not-a-token"}, b""),
    ("POST", "/ims/revoke", FORM, b""),
    ("GET", "/ims/validate_token/v1", {}, b""),
    ("GET", "/ims/logout/v1", {}, b""),
    ("GET", "/ims/authorize/v2", {}, b""),
    ("GET", "/ims/no-such-endpoint", {}, b""),
    ("GET", "/openapi.json", {}, b""),
    ("GET", "/ims/keys", {"X-Padding": "a" * 17_000}, b""),
    ("GET", "/ims/userinfo/v2", {f"X-H{n}": "v" for n in range(101)}, b""),
]


@pytest.fixture
async def both() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Context]]:
    ctx = Context(Settings(default_config()))
    app = create_app(ctx.settings, context=ctx)
    routed = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    direct = httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded(app, ctx.settings)), base_url=BASE)
    async with routed, direct:
        yield routed, direct, ctx


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], object]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
    if response.content and response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, headers, json.loads(response.content)
    return response.status_code, headers, response.content


@pytest.mark.parametrize(("method", "path", "headers", "body"), REQUESTS)
async def test_every_fixed_ims_path_answers_the_same_directly(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, Context],
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    routed, direct, _ = both
    through_router = await routed.request(method, path, headers=headers, content=body)
    through_direct = await direct.request(method, path, headers=headers, content=body)
    assert _comparable(through_direct) == _comparable(through_router)


async def test_a_token_request_is_journalled_the_same_way_directly(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient, Context],
) -> None:
    routed, direct, ctx = both
    body = b"grant_type=client_credentials&scope=AdobeID"
    for client in (routed, direct):
        answer = await client.post("/ims/token/v3", headers={**FORM, "Authorization": BASIC}, content=body)
        assert answer.status_code == 200
    first, second = (await ctx.journal.entries())[-2:]
    skip = {"seq", "time", "time_ms", "real_time", "issued"}
    assert {k: v for k, v in first.items() if k not in skip} == {
        k: v for k, v in second.items() if k not in skip
    }


async def test_an_unexpected_error_is_a_json_500_not_a_traceback() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    ctx = Context(Settings(default_config()))
    app = create_app(ctx.settings, context=ctx)
    direct = DirectRoutes(app, [Route("/ims/broken", broken)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=direct), base_url=BASE) as client:
        answer = await client.get("/ims/broken")
    assert answer.status_code == 500
    assert answer.json()["error"] == "server_error"
    assert "a bug" not in answer.text
