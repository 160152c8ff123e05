"""Running the reference client against the mock IMS in one process, without sockets.

A `Hosts` transport sends each request to the ASGI app of its host, so one httpx client plays
the browser for both the reference client and the mock (cookies included), and the reference
client's own httpx client reaches the mock the same way.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import jwt
from starlette.applications import Starlette
from starlette.types import ASGIApp

from mock_ims.state.context import Context
from reference_client import Components, Settings, create_app
from reference_client.keyring import generate_key
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, form_field

MOCK_URL = "http://127.0.0.1:8765"
APP_URL = "http://127.0.0.1:8000"
LIGHTROOM_URL = "http://127.0.0.1:8766"


class FakeClock:
    """The reference client's clock, moved by tests (the mock keeps its own)."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * 1000)


class Hosts(httpx.AsyncBaseTransport):
    """Routes each request to the app serving its host:port; unknown hosts refuse to connect."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.transports = {
            httpx.URL(url).netloc.decode(): httpx.ASGITransport(app=app) for url, app in apps.items()
        }

    def add(self, url: str, app: ASGIApp) -> None:
        self.transports[httpx.URL(url).netloc.decode()] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.netloc.decode())
        if transport is None:
            raise httpx.ConnectError(f"nothing listens at {request.url.netloc.decode()}", request=request)
        return await transport.handle_async_request(request)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests on, keeping every token response: the tokens IMS handed the client,
    ID tokens included (the mock's ledger has no ID tokens)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.token_responses: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.startswith("/ims/token") or response.status_code != 200:
            return response
        body = await response.aread()
        with contextlib.suppress(ValueError):
            self.token_responses.append(json.loads(body))
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def issued_tokens(self) -> list[str]:
        kinds = ("access_token", "refresh_token", "id_token")
        return [r[kind] for r in self.token_responses for kind in kinds if isinstance(r.get(kind), str)]


def settings_for(data_dir: Path, ims_url: str = MOCK_URL, **overrides: Any) -> Settings:
    base = Settings(
        ims_base_url=ims_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=f"{APP_URL}/callback",
        lightroom_base_url=MOCK_URL,  # the mock serves the Lightroom stub too
        data_dir=data_dir,
        encryption_key=generate_key(),
        http_timeout=5.0,
    )
    return replace(base, **overrides)


@dataclass
class InProcess:
    """A reference client, a mock IMS, and a browser-like httpx client between them."""

    mock: Context
    settings: Settings
    components: Components
    app: Starlette
    hosts: Hosts
    recorder: RecordingTransport
    browser: httpx.AsyncClient
    clock: FakeClock
    others: list[httpx.AsyncClient] = field(default_factory=list)

    def new_browser(self) -> httpx.AsyncClient:
        """Another browser: its own cookies."""
        browser = httpx.AsyncClient(transport=self.hosts, base_url=APP_URL)
        self.others.append(browser)
        return browser

    async def aclose(self) -> None:
        for browser in [self.browser, *self.others]:
            await browser.aclose()
        await self.components.aclose()

    async def start_login(self, browser: httpx.AsyncClient | None = None) -> str:
        """GET /login; the IMS authorize URL it redirects to."""
        response = await (browser or self.browser).get("/login")
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(MOCK_URL + "/ims/authorize/v2?"), location
        return location

    async def answer_login(
        self,
        authorize_url: str,
        *,
        user: str = "alice@example.com",
        deny: bool = False,
        browser: httpx.AsyncClient | None = None,
    ) -> str:
        """Go through the mock's login page; the callback URL IMS sends the browser to."""
        client = browser or self.browser
        page = await client.get(authorize_url)
        if page.status_code == 302:  # the mock's SSO session answered at once
            return page.headers["location"]
        assert page.status_code == 200, page.text
        form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
        form.update({"action": "deny"} if deny else {"user": user})
        answer = await client.post(f"{MOCK_URL}/ims/login", data=form)
        assert answer.status_code == 302, answer.text
        location: str = answer.headers["location"]
        assert location.startswith(f"{self.settings.redirect_uri}?"), location
        return location

    async def sign_in(
        self, user: str = "alice@example.com", browser: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        """The whole login; the response of the callback (a redirect to /profile)."""
        callback = await self.answer_login(await self.start_login(browser), user=user, browser=browser)
        return await (browser or self.browser).get(callback)

    async def journal(self, **filters: str) -> list[dict[str, Any]]:
        entries = await self.mock.journal.entries()
        return [e for e in entries if all(e.get(k) == v for k, v in filters.items())]

    def user_id(self, email: str) -> str:
        for user in self.mock.config.users:
            if user.email == email:
                return user.user_id
        raise KeyError(email)


async def in_process(
    mock: Context, data_dir: Path, *, extra_apps: dict[str, ASGIApp] | None = None, **overrides: Any
) -> InProcess:
    from mock_ims.serving.app import create_app as create_mock_app

    mock_app = create_mock_app(mock.settings, context=mock)
    hosts = Hosts({MOCK_URL: mock_app, **(extra_apps or {})})
    clock = FakeClock(await mock.now_ms())
    settings = settings_for(data_dir, **overrides)
    recorder = RecordingTransport(hosts)
    components = Components.build(settings, clock=clock, http=httpx.AsyncClient(transport=recorder))
    app = create_app(settings, components=components)
    hosts.add(APP_URL, app)
    hosts.add(APP_URL.replace("127.0.0.1", "localhost"), app)
    browser = httpx.AsyncClient(transport=hosts, base_url=APP_URL)
    return InProcess(mock, settings, components, app, hosts, recorder, browser, clock)


SCOPES = ("openid", "AdobeID", "lr_partner_apis", "offline_access")


async def mint_code(mock: Context, email: str = "alice@example.com") -> tuple[str, str]:
    """An attacker's valid code (raw, id): issued by the mock to a user, outside any login here."""
    from mock_ims.state.issuance import issue_code

    await mock.ensure_started()
    user = await mock.registry.user_by_email(email)
    if user is None:
        raise KeyError(email)
    record = await issue_code(
        mock,
        client=mock.config.default_client,
        user=user,
        scopes=SCOPES,
        redirect_uri=f"{APP_URL}/callback",
        redirect_uri_sent=True,
        state="",
        nonce=None,
        code_challenge=None,
        code_challenge_method=None,
        sid=None,
        now_ms=await mock.now_ms(),
        minted_by="admin",
    )
    return record.raw, record.id


def code_id(raw_code: str) -> str:
    """The id the mock's journal knows a code by."""
    claims = jwt.decode(raw_code, options={"verify_signature": False})
    return str(claims["id"])


def presentations(entries: list[dict[str, Any]], token_id: str) -> list[dict[str, Any]]:
    """Journal entries where a code or token was presented (redeemed, or tried)."""
    return [e for e in entries if e.get("consumed") == token_id]
