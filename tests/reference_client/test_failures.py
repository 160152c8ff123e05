"""IMS down, slow or answering nonsense: a clear page every time, never a 500 or a hang."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_ims.serving.app import create_app as create_mock_app
from mock_ims.state.context import Context
from reference_client import Components, create_app
from reference_client.sessions import Session, SessionStore
from reference_client.upstream import MAX_BODY_BYTES
from tests.reference_client.harness import APP_URL, MOCK_URL, InProcess, in_process, settings_for

pytestmark = pytest.mark.anyio


class Faulty:
    """The mock IMS, except that some paths answer what the test says."""

    def __init__(self, app: ASGIApp, faults: dict[str, Response]) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.faults.get(scope.get("path", ""))
        if scope["type"] == "http" and fault is not None:
            await fault(scope, receive, send)
            return
        await self.app(scope, receive, send)


def discovery_of(base: str, **changes: object) -> dict[str, object]:
    from mock_ims.endpoints.discovery import openid_configuration

    return {**openid_configuration(base), **changes}


def assert_clear_unavailable_page(response: httpx.Response, says: str = "") -> None:
    assert response.status_code == 503, response.text
    assert 'data-error-code="service_unavailable"' in response.text
    assert says in response.text
    assert "Traceback" not in response.text


async def with_faults(ims_context: Context, tmp_path: Path, faults: dict[str, Response]) -> InProcess:
    rc = await in_process(ims_context, tmp_path / "data")
    rc.hosts.add(MOCK_URL, Faulty(create_mock_app(ims_context.settings, context=ims_context), faults))
    return rc


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Response("<html>maintenance</html>", 500), "HTTP 500"),
        (Response("<html>hello</html>", 200), "not JSON"),
        (JSONResponse(["not", "an", "object"]), "not an object"),
        (JSONResponse({"issuer": MOCK_URL}), "no authorization_endpoint"),
        (JSONResponse(discovery_of(MOCK_URL, token_endpoint="http://evil.example/token")), "plain http"),
    ],
)
async def test_broken_discovery_gives_a_clear_page_at_login(
    ims_context: Context, tmp_path: Path, fault: Response, says: str
) -> None:
    rc = await with_faults(ims_context, tmp_path, {"/ims/.well-known/openid-configuration": fault})
    try:
        assert_clear_unavailable_page(await rc.browser.get("/login"), says)
    finally:
        await rc.aclose()


@pytest.mark.parametrize(
    ("path", "fault", "says"),
    [
        ("/ims/token/v3", Response("<html>oops</html>", 500), "HTTP 500"),
        ("/ims/token/v3", Response("<html>oops</html>", 502), "HTTP 502"),
        ("/ims/token/v3", Response("{not json", 200), "not JSON"),
        ("/ims/token/v3", JSONResponse({"token_type": "bearer"}), "no access_token"),
        ("/ims/token/v3", JSONResponse({"error": "server_error"}, 503), "HTTP 503"),
        ("/ims/token/v3", Response(b"x" * (MAX_BODY_BYTES + 1), 200), "more than"),
        ("/ims/keys", JSONResponse({"keys": []}), "no usable signing keys"),
        ("/ims/keys", Response("", 404), "HTTP 404"),
    ],
)
async def test_a_broken_token_exchange_gives_a_clear_page(
    ims_context: Context, tmp_path: Path, path: str, fault: Response, says: str
) -> None:
    rc = await with_faults(ims_context, tmp_path, {path: fault})
    try:
        callback = await rc.answer_login(await rc.start_login())
        assert_clear_unavailable_page(await rc.browser.get(callback), says)
        assert rc.components.token_store.user_ids() == []
    finally:
        await rc.aclose()


async def test_a_broken_profile_endpoint_gives_a_clear_page(ims_context: Context, tmp_path: Path) -> None:
    rc = await in_process(ims_context, tmp_path / "data")
    try:
        await rc.sign_in()
        rc.hosts.add(
            MOCK_URL,
            Faulty(
                create_mock_app(ims_context.settings, context=ims_context),
                {"/ims/profile/v1": Response("<html>down</html>", 500)},
            ),
        )
        assert_clear_unavailable_page(await rc.browser.get("/profile"), "HTTP 500")
    finally:
        await rc.aclose()


async def test_an_ims_that_cannot_be_reached_during_refresh_keeps_the_user_signed_in(
    ims_context: Context, tmp_path: Path
) -> None:
    rc = await in_process(ims_context, tmp_path / "data")
    try:
        await rc.sign_in()
        rc.clock.advance(86_400)
        del rc.hosts.transports["127.0.0.1:8765"]
        assert_clear_unavailable_page(await rc.browser.get("/profile"), "could not be reached")
        assert rc.components.token_store.user_ids() == [rc.user_id("alice@example.com")]
    finally:
        await rc.aclose()


# --- real sockets: nothing listening, and a server that never answers ------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does, from the backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def app_against(ims_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(tmp_path / "data", ims_url=ims_url, http_timeout=0.3)
    components = Components.build(settings)  # a real httpx client, real sockets
    transport = httpx.ASGITransport(app=create_app(settings, components=components))
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as browser:
        yield browser
    await components.aclose()


async def test_an_ims_with_nothing_listening_gives_a_clear_page(closed_port: int, tmp_path: Path) -> None:
    async for browser in app_against(f"http://127.0.0.1:{closed_port}", tmp_path):
        assert_clear_unavailable_page(await browser.get("/login"), "could not be reached")


async def test_an_ims_that_never_answers_gives_a_clear_page_after_the_timeout(
    silent_server: str, tmp_path: Path
) -> None:
    async for browser in app_against(silent_server, tmp_path):
        assert_clear_unavailable_page(await browser.get("/login"), "did not answer within 0.3 s")


async def test_an_unexpected_bug_gives_a_plain_page_without_a_traceback(rc: InProcess) -> None:
    class Broken(SessionStore):
        async def load(self, request: Request) -> Session | None:
            raise RuntimeError("a bug with a secret detail")

    rc.components.sessions = Broken(rc.components.database, rc.clock, secure_cookies=False)
    transport = httpx.ASGITransport(app=rc.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as browser:
        response = await browser.get("/")
    assert response.status_code == 500
    assert 'data-error-code="internal"' in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text


async def test_a_profile_endpoint_refusing_even_a_fresh_token_ends_the_session(
    ims_context: Context, tmp_path: Path
) -> None:
    rc = await in_process(ims_context, tmp_path / "data")
    try:
        await rc.sign_in()
        rc.hosts.add(
            MOCK_URL,
            Faulty(
                create_mock_app(ims_context.settings, context=ims_context),
                {"/ims/profile/v1": JSONResponse({"error": "invalid_token"}, 401)},
            ),
        )
        response = await rc.browser.get("/profile")
        assert response.headers["location"] == "/?notice=session-ended"
        assert len([e for e in await rc.journal(endpoint="token") if e["grant_type"] == "refresh_token"]) == 1
        assert rc.components.token_store.user_ids() == []
    finally:
        await rc.aclose()
