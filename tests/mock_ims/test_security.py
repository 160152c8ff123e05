"""The mock hands out tokens to anyone who asks: what keeps it from being mistaken for, or
exposed as, a real identity service, and from leaking what it issues.

- it binds loopback only, unless told `--allow-remote`, and then its control plane wants a token;
- it answers only for its own host names on loopback (no DNS rebinding);
- secrets are compared in constant time, and never reach its log, even at debug level with the
  access log on (the journal's masking is in test_journal.py);
- token answers are not cached; the login page resists CSRF and framing;
- every token, and the discovery document, says it comes from a mock.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest

from mock_ims.config import default_config
from mock_ims.protocol.pkce import s256
from mock_ims.serving.app import create_app, guarded
from mock_ims.serving.logs import mask_query
from mock_ims.state.context import Context, Settings
from tests.conftest import BASE
from tests.helpers.flows import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    VERIFIER,
    authorize_params,
    form_field,
    open_login_page,
    query_of,
    tokens_for,
)
from tests.helpers.processes import RunningProcess, mock_ims_process
from tests.mock_ims.test_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "admin-token-for-the-test"
BANNER_END = "Press Ctrl-C to stop."


# ---- binding, the admin token, the Host guard ----------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_any_interface_but_loopback_is_refused_without_allow_remote(host: str) -> None:
    result = run_cli("serve", "--host", host, "--port", "0")
    assert result.returncode == 2
    assert f"refusing to bind {host}" in result.stderr
    assert "--allow-remote" in result.stderr


def test_allow_remote_without_an_admin_token_is_refused() -> None:
    result = run_cli("serve", "--allow-remote", "--port", "0")
    assert result.returncode == 2
    assert "--allow-remote needs --admin-token" in result.stderr


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    """A mock started as for remote use (still bound to loopback here)."""
    arguments = ("--allow-remote", "--admin-token", ADMIN_TOKEN)
    with mock_ims_process(*arguments, data_dir=tmp_path_factory.mktemp("remote")) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/__admin/journal"), ("POST", "/__admin/tokens"), ("POST", "/__admin/reset"), ("GET", "/")],
)
def test_with_allow_remote_the_control_plane_demands_the_admin_token(
    remote: RunningProcess, method: str, path: str
) -> None:
    url = f"{remote.url}{path}"
    assert httpx.request(method, url).status_code == 401
    assert httpx.request(method, url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    authorized = httpx.request(
        method, url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, json={"kind": "access_token"}
    )
    assert authorized.status_code in (200, 201)


def test_with_allow_remote_the_ims_endpoints_still_answer_without_it(remote: RunningProcess) -> None:
    assert httpx.get(f"{remote.url}/ims/keys").status_code == 200
    assert httpx.get(f"{remote.url}/ims/keys", headers={"Host": "ims.example"}).status_code == 200


def guarded_client(**settings: Any) -> httpx.AsyncClient:
    config = Settings(default_config(), **settings)
    app = guarded(create_app(config, context=Context(config)), config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8765", 200),
        ("localhost", 200),
        ("LOCALHOST:1", 200),
        ("[::1]:8765", 200),
        ("evil.example", 421),
        ("evil.example:8765", 421),
        ("127.0.0.1.evil.example", 421),
        ("localhost.evil.example:8765", 421),
        ("mock.test:8765", 200),  # a host the mock was given (Settings.extra_hosts)
    ],
)
async def test_on_loopback_only_its_own_host_names_are_answered(host: str, status: int) -> None:
    async with guarded_client(extra_hosts=("mock.test",)) as client:
        response = await client.get("http://127.0.0.1:8765/ims/keys", headers={"Host": host})
    assert response.status_code == status
    if status == 421:
        assert response.json()["error"] == "misdirected_request"


# ---- constant time ----------------------------------------------------------------------------


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Every hmac.compare_digest call the mock makes, recorded (and still made)."""
    seen: list[tuple[bytes, bytes]] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a.encode() if isinstance(a, str) else a, b.encode() if isinstance(b, str) else b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return seen


@pytest.mark.anyio
async def test_client_secrets_are_compared_in_constant_time(
    ims: httpx.AsyncClient, comparisons: list[tuple[bytes, bytes]]
) -> None:
    for secret in ("wrong-secret", CLIENT_SECRET):
        await ims.post("/ims/token/v3", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, secret))
    assert (b"wrong-secret", CLIENT_SECRET.encode()) in comparisons
    assert (CLIENT_SECRET.encode(), CLIENT_SECRET.encode()) in comparisons


@pytest.mark.anyio
async def test_passwords_and_the_admin_token_are_compared_in_constant_time(
    comparisons: list[tuple[bytes, bytes]],
) -> None:
    async with guarded_client(admin_token=ADMIN_TOKEN) as client:
        await client.get("http://127.0.0.1:8765/__admin/journal", headers={"Authorization": "Bearer guess"})
        page = await open_login_page(client)
        form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
        await client.post(
            "http://127.0.0.1:8765/ims/login",
            data={**form, "email": "alice@example.com", "password": "guess"},
        )
    assert (b"guess", ADMIN_TOKEN.encode()) in comparisons
    assert (b"alice-pass", b"guess") in comparisons


# ---- nothing secret in the log ------------------------------------------------------------------


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    """A mock logging all it can: debug level and uvicorn's access log."""
    arguments = ("--log-level", "debug", "--access-log")
    with mock_ims_process(*arguments, data_dir=tmp_path_factory.mktemp("chatty")) as running:
        yield running


def full_flow_with_secrets_in_query_strings(url: str) -> list[str]:
    """A sign-in, redemption, userinfo, validation, refresh and logout, putting every secret and
    token the mock reads in a query string somewhere (the leniencies IMS allows); what was used."""
    with httpx.Client(base_url=url) as browser:
        params = authorize_params(prompt="login", code_challenge=s256(VERIFIER))
        page = browser.get("/ims/authorize/v2", params=params)
        form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
        signed_in = browser.post(
            "/ims/login", data={**form, "email": "alice@example.com", "password": "alice-pass"}
        )
        code = query_of(signed_in.headers["location"])["code"]
        secret_query = f"client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
        tokens = browser.post(
            f"/ims/token?{secret_query}&code={quote(code)}&code_verifier={VERIFIER}",
            data={"grant_type": "authorization_code"},
        ).json()
        access, refresh, id_token = tokens["access_token"], tokens["refresh_token"], tokens["id_token"]
        assert browser.get(f"/ims/userinfo?access_token={access}").status_code == 200
        assert browser.get(f"/ims/validate_token/v1?token={access}&client_id={CLIENT_ID}").json()["valid"]
        refreshed = browser.post(
            f"/ims/token/v1?{secret_query}&refresh_token={refresh}&grant_type=refresh_token"
        )
        assert refreshed.status_code == 200
        browser.get(
            f"/ims/logout/v1?id_token_hint={id_token}&access_token={refreshed.json()['access_token']}"
        )
        return [
            CLIENT_SECRET,
            "alice-pass",
            VERIFIER,
            code,
            access,
            refresh,
            id_token,
            refreshed.json()["access_token"],
        ]


def test_no_secret_code_or_token_reaches_the_log_even_at_debug_level(chatty: RunningProcess) -> None:
    used = full_flow_with_secrets_in_query_strings(chatty.url)
    httpx.get(f"{chatty.url}/ims/keys")  # the access log is written after each answer: one more
    log = chatty.text().split(BANNER_END, 1)[1]  # the banner prints the test credentials, on purpose
    assert '"POST /ims/token?client_id=mock-partner-app&client_secret=***' in log
    assert "GET /ims/userinfo?access_token=<access_token " in log
    for secret in used:
        assert secret not in log
        assert quote(secret, safe="") not in log


@pytest.mark.parametrize(
    ("path", "masked"),
    [
        ("/ims/token?client_secret=s3cret&grant_type=x", "/ims/token?client_secret=***&grant_type=x"),
        ("/ims/authorize/v2?scope=openid+AdobeID", "/ims/authorize/v2?scope=openid AdobeID"),
        ("/cb?code=abc.def&state=1", "/cb?code=<masked, 7 chars>&state=1"),
        ("/ims/userinfo", "/ims/userinfo"),
        ("/ims/keys?password=&x=%ff", "/ims/keys?password=&x=%EF%BF%BD"),
    ],
)
def test_the_access_log_masks_query_strings_as_the_journal_does(path: str, masked: str) -> None:
    assert mask_query(path) == masked


# ---- caching, CSRF, framing ---------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("version", ["/v3", "/v2", "/v1", ""])
async def test_token_answers_and_refusals_are_never_cached(ims: httpx.AsyncClient, version: str) -> None:
    granted = await ims.post(
        f"/ims/token{version}", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    refused = await ims.post(
        f"/ims/token{version}", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, "x")
    )
    for answer in (granted, refused):
        assert (answer.headers["cache-control"], answer.headers["pragma"]) == ("no-store", "no-cache")


@pytest.mark.anyio
async def test_the_redirect_carrying_a_code_is_never_cached(ims: httpx.AsyncClient) -> None:
    page = await open_login_page(ims)
    form = {
        "rid": form_field(page.text, "rid"),
        "csrf": form_field(page.text, "csrf"),
        "user": "alice@example.com",
    }
    answer = await ims.post("/ims/login", data=form)
    assert answer.status_code == 302
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_the_login_page_cannot_be_framed_and_its_cookies_stay_on_the_site(
    ims: httpx.AsyncClient,
) -> None:
    page = await open_login_page(ims)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    csrf_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie and "Path=/ims" in csrf_cookie
    form = {
        "rid": form_field(page.text, "rid"),
        "csrf": form_field(page.text, "csrf"),
        "user": "alice@example.com",
    }
    signed_in = await ims.post("/ims/login", data=form)
    sso_cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in sso_cookie and "SameSite=lax" in sso_cookie


@pytest.mark.anyio
@pytest.mark.parametrize(
    "forgery",
    ["no CSRF cookie", "another CSRF value", "no CSRF field", "a cross-site Origin"],
)
async def test_a_forged_login_form_is_refused(
    ims: httpx.AsyncClient, ims_context: Context, forgery: str
) -> None:
    page = await open_login_page(ims)
    form = {
        "rid": form_field(page.text, "rid"),
        "csrf": form_field(page.text, "csrf"),
        "user": "alice@example.com",
    }
    headers = {}
    if forgery == "no CSRF cookie":
        ims.cookies.clear()
    elif forgery == "another CSRF value":
        form["csrf"] = "attacker-chosen-value-1234"
    elif forgery == "no CSRF field":
        del form["csrf"]
    else:
        headers["Origin"] = "https://evil.example"
    answer = await ims.post("/ims/login", data=form, headers=headers)
    assert answer.status_code == 403
    assert "location" not in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"
    assert await ims_context.store.items("tokens") == []  # no code issued


# ---- a mock, and says so ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_every_token_and_the_discovery_document_say_they_come_from_a_mock(
    ims: httpx.AsyncClient,
) -> None:
    issued = await tokens_for(ims)
    code = await ims.post(
        "/__admin/tokens",
        json={"kind": "authorization_code", "user": "bob@example.com", "redirect_uri": REDIRECT_URI},
    )
    technical = await ims.post(
        "/ims/token/v3", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    for token in (
        issued["access_token"],
        issued["refresh_token"],
        issued["id_token"],
        code.json()["token"],
        technical.json()["access_token"],
    ):
        assert jwt.decode(token, options={"verify_signature": False})["mock"] is True
    assert (await ims.get("/ims/.well-known/openid-configuration")).json()["mock"] is True
    assert issued["token_type"] == "bearer"


def test_the_readme_the_banner_and_the_login_page_warn_never_to_trust_it_in_production(
    remote: RunningProcess,
) -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"never trust (its|these) tokens", readme, re.IGNORECASE)
    assert "Never trust its tokens in production." in remote.text()
    page = httpx.get(f"{remote.url}/ims/authorize/v2", params=authorize_params(prompt="login"))
    assert "never trust these tokens in production" in page.text
