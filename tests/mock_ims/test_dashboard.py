"""The dashboard at `/`, in process: what it shows, what it hides, and who may press its buttons.

The same page in a real Chromium is in test_dashboard_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from mock_ims.config import MockConfig
from mock_ims.serving.app import create_app
from mock_ims.state.context import Context, Settings
from tests.conftest import BASE
from tests.helpers.flows import (
    CLIENT_ID,
    CLIENT_SECRET,
    VERIFIER,
    authorize_params,
    form_field,
    open_login_page,
    sign_in,
    tokens_for,
)

pytestmark = pytest.mark.anyio

ENTRY_ID = re.compile(r'<details class=entry id="entry-(\d+)"')
DAY = 86_400


async def page(ims: httpx.AsyncClient, query: str = "") -> str:
    response = await ims.get(f"/{query}")
    assert response.status_code == 200, response.text
    return response.text


def entry_endpoints(html: str) -> list[str]:
    return re.findall(r'<details class=entry id="entry-\d+" data-endpoint="([^"]*)"', html)


async def csrf(ims: httpx.AsyncClient) -> str:
    """Open the dashboard (which sets the CSRF cookie) and read its hidden field."""
    return form_field(await page(ims), "csrf")


async def journal_count(ims: httpx.AsyncClient) -> int:
    count: int = (await ims.get("/__admin/journal")).json()["count"]
    return count


# ---- what it shows ---------------------------------------------------------------------


async def test_the_page_is_sent_with_the_login_pages_anti_framing_headers(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mock_ims_dashboard_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/__admin/ui" in cookie


async def test_viewing_the_dashboard_is_not_journalled(ims: httpx.AsyncClient) -> None:
    await page(ims)
    await page(ims, "?endpoint=token")
    assert await journal_count(ims) == 0


async def test_journal_entries_are_listed_newest_first(ims: httpx.AsyncClient) -> None:
    await tokens_for(ims)
    html = await page(ims)
    seqs = [int(seq) for seq in ENTRY_ID.findall(html)]
    assert len(seqs) == 3
    assert seqs == sorted(seqs, reverse=True)
    assert entry_endpoints(html) == ["token", "login", "authorize"]


async def test_entries_carry_their_parameters_headers_outcome_and_reason(ims: httpx.AsyncClient) -> None:
    await ims.get("/ims/authorize/v2", params=authorize_params(scope="openid,no_such_scope"))
    html = await page(ims)
    assert "scope no_such_scope is not allowed for this client" in html  # the reason
    assert "<code>state</code></td><td><code>state-123</code>" in html  # a parameter
    assert "<code>user-agent</code>" in html  # a header
    assert 'data-outcome="refused"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?endpoint=token", {"token"}),
        ("?endpoint=login", {"login"}),
        ("?outcome=refused", {"token"}),
        (f"?client={CLIENT_ID}", {"authorize", "login"}),  # the token call sent no client auth
        ("?client=nobody", set()),
    ],
)
async def test_the_journal_filters_by_endpoint_client_and_outcome(
    ims: httpx.AsyncClient, query: str, expected: set[str]
) -> None:
    callback = await sign_in(ims)
    await ims.post("/ims/token/v3", data={"grant_type": "authorization_code", "code": callback.code})
    html = await page(ims, query)
    assert set(entry_endpoints(html)) == expected


async def test_the_journal_filters_by_user(ims: httpx.AsyncClient, ims_context: Context) -> None:
    await sign_in(ims, user="bob@example.com")
    await sign_in(ims, user="alice@example.com", prompt="login")
    bob = await ims_context.registry.user_by_email("bob@example.com")
    assert bob is not None
    html = await page(ims, f"?user={bob.user_id}")
    assert entry_endpoints(html) == ["login"]
    assert "bob@example.com" in html


async def test_tokens_are_decoded_with_their_expiry_and_status(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    body = await tokens_for(ims)
    html = await page(ims)
    assert 'data-kind="access_token" data-status="live"' in html
    assert 'data-kind="refresh_token" data-status="live"' in html
    assert 'data-kind="authorization_code" data-status="used"' in html
    assert "&quot;itt&quot;: &quot;at&quot;" in html  # the decoded header
    assert "&quot;type&quot;: &quot;access_token&quot;" in html  # the decoded claims
    assert "(in 23 h 59 min)" in html  # the access token's expiry, in human time

    await ims_context.clock.advance(DAY)
    html = await page(ims)
    assert 'data-kind="access_token" data-status="expired"' in html
    await ims.post("/ims/revoke", data={"token": body["refresh_token"]}, auth=(CLIENT_ID, CLIENT_SECRET))
    html = await page(ims)
    assert 'data-kind="refresh_token" data-status="revoked' in html


async def test_users_clients_and_clock_are_shown(ims: httpx.AsyncClient, ims_context: Context) -> None:
    await ims_context.clock.advance(90)
    html = await page(ims)
    for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
        assert email in html
    assert "subscriber_expired" in html
    assert f'<tr data-client="{CLIENT_ID}">' in html
    assert re.search(r"<span id=clock-offset-seconds>90\.\d+</span>", html)


async def test_active_faults_are_shown(ims: httpx.AsyncClient) -> None:
    assert "No active faults." in await page(ims)
    fault = {
        "endpoint": "token",
        "status": 503,
        "body": {"error": "temporarily_unavailable"},
        "grant_type": "refresh_token",
    }
    added = await ims.post("/__admin/faults", json=fault)
    assert added.status_code == 201, added.text
    assert (await ims.post("/__admin/scenarios/token-endpoint-500", json={"times": 2})).status_code < 300
    html = await page(ims)
    assert html.count("<tr class=fault ") == 2
    assert "every call" in html  # the first rule has no `times`
    assert "token-endpoint-500" in html
    assert "{&quot;error&quot;: &quot;temporarily_unavailable&quot;}" in html
    assert "No active faults." not in html


async def test_the_lease_holder_is_shown_but_not_the_lease_id(ims: httpx.AsyncClient) -> None:
    assert "<span id=lease-holder class=muted>not held</span>" in await page(ims)
    taken = await ims.post("/__admin/lease", json={"holder": "ims-conformance <ci-7>", "ttl": 90})
    html = await page(ims)
    assert "<strong id=lease-holder>ims-conformance &lt;ci-7&gt;</strong>" in html
    assert re.search(r"for 1 min 2\d s more|for 1 min 30 s more", html)
    assert taken.json()["id"] not in html


@pytest.mark.parametrize(
    ("query", "refresh"),
    [
        ("?refresh=5", "5"),
        ("", None),
        ("?refresh=0", None),
        ("?refresh=%C2%B9", None),  # "¹": str.isdigit() says yes, int() refuses (found by the fuzzer)
        ("?refresh=%D9%A3", None),  # "٣", an Arabic-Indic three
    ],
)
async def test_auto_refresh_is_a_meta_refresh_toggled_by_the_query(
    ims: httpx.AsyncClient, query: str, refresh: str | None
) -> None:
    html = await page(ims, query)
    meta = re.search(r'<meta http-equiv=refresh content="(\d+)">', html)
    assert (meta.group(1) if meta else None) == refresh


# ---- what it hides --------------------------------------------------------------------

ATTACKS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
]


async def test_attacker_controlled_strings_are_escaped(ims: httpx.AsyncClient) -> None:
    for attack in ATTACKS:
        await ims.get(
            "/ims/authorize/v2",
            params={"client_id": attack, "state": attack, "redirect_uri": attack},
            headers={"User-Agent": attack},
        )
    await ims.get("/v2/health", headers={"X-API-Key": ATTACKS[0]})
    await ims.get("/ims/authorize/v2", params=authorize_params(state=ATTACKS[1], nonce=ATTACKS[2]))
    html = await page(ims, "?endpoint=" + ATTACKS[0])
    html += await page(ims)
    for attack in ATTACKS:
        assert attack not in html
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_no_secret_and_no_whole_token_reaches_the_page(ims: httpx.AsyncClient) -> None:
    login_page = await open_login_page(ims)
    form = {
        "rid": form_field(login_page.text, "rid"),
        "csrf": form_field(login_page.text, "csrf"),
        "email": "bob@example.com",
        "password": "bob-pass",
        "action": "allow",
    }
    callback = await ims.post("/ims/login", data=form)
    code = re.search(r"code=([^&]+)", callback.headers["location"])
    assert code is not None
    # client secret in the body, as a sloppy partner might send it
    issued = await ims.post(
        "/ims/token/v3",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "code_verifier": VERIFIER,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    html = await page(ims)
    for secret in (CLIENT_SECRET, "bob-pass", "alice-pass", VERIFIER):
        assert secret not in html
    for token in (code.group(1), body["access_token"], body["refresh_token"], body["id_token"]):
        assert token not in html
        assert token[:40] not in html
    assert "<code>client_secret</code></td><td><code>***</code>" in html  # which parameter carried it


# ---- who may press its buttons --------------------------------------------------------


async def test_the_clock_button_advances_the_clock_and_goes_back(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    token = await csrf(ims)
    response = await ims.post("/__admin/ui/clock", data={"csrf": token, "seconds": "3600"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert round(float(str((await ims_context.clock.describe())["offset_seconds"]))) == 3600
    response = await ims.post("/__admin/ui/clock", data={"csrf": token, "seconds": "-600.5"})
    assert response.status_code == 303
    assert round(float(str((await ims_context.clock.describe())["offset_seconds"])), 1) == 2999.5


async def test_the_clear_button_empties_the_journal(ims: httpx.AsyncClient) -> None:
    await tokens_for(ims)
    assert await journal_count(ims) == 3
    response = await ims.post("/__admin/ui/clear-journal", data={"csrf": await csrf(ims)})
    assert response.status_code == 303
    assert await journal_count(ims) == 0
    assert "No journal entries." in await page(ims)


async def test_the_buttons_go_back_to_the_same_view_and_nowhere_else(ims: httpx.AsyncClient) -> None:
    token = await csrf(ims)
    return_to = "endpoint=token&refresh=5&next=https://evil.example/&outcome=" + "x" * 300
    response = await ims.post("/__admin/ui/clear-journal", data={"csrf": token, "return_to": return_to})
    assert response.headers["location"] == f"/?endpoint=token&outcome={'x' * 256}&refresh=5"


@pytest.mark.parametrize(
    ("form", "headers", "fresh_browser"),
    [
        ({}, {}, False),
        ({"csrf": "wrong-but-well-formed-token"}, {}, False),
        ({"csrf": "from-another-browser"}, {}, True),
        ({"csrf": None}, {"Origin": "http://evil.example"}, False),
        ({"csrf": None}, {"Sec-Fetch-Site": "cross-site"}, False),
        ({"csrf": None}, {"Sec-Fetch-Site": "same-site"}, False),
    ],
    ids=["no-field", "wrong-field", "no-cookie", "foreign-origin", "cross-site", "same-site-other-port"],
)
async def test_the_buttons_refuse_cross_site_requests(
    ims: httpx.AsyncClient,
    ims_context: Context,
    form: dict[str, str | None],
    headers: dict[str, str],
    fresh_browser: bool,
) -> None:
    token = await csrf(ims)
    await tokens_for(ims)
    data = {"seconds": "3600", **{k: (token if v is None else v) for k, v in form.items()}}
    if fresh_browser:
        ims.cookies.clear()
    for path in ("/__admin/ui/clock", "/__admin/ui/clear-journal"):
        response = await ims.post(path, data=data, headers=headers)
        assert response.status_code == 403, response.text
        assert response.headers["x-frame-options"] == "DENY"
    assert (await ims_context.clock.describe())["offset_seconds"] == 0
    assert await journal_count(ims) == 3


@pytest.mark.parametrize("seconds", ["", "soon", "nan", "inf", "1e20"])
async def test_a_bad_number_of_seconds_is_refused_naming_the_field(
    ims: httpx.AsyncClient, ims_context: Context, seconds: str
) -> None:
    response = await ims.post("/__admin/ui/clock", data={"csrf": await csrf(ims), "seconds": seconds})
    assert response.status_code == 400
    assert "seconds:" in response.text
    assert (await ims_context.clock.describe())["offset_seconds"] == 0


@pytest.fixture
async def guarded_ims(config: MockConfig) -> AsyncIterator[httpx.AsyncClient]:
    """A mock started with --admin-token admin-token."""
    ctx = Context(Settings(config, admin_token="admin-token"))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def test_with_an_admin_token_a_browser_is_asked_for_it_as_a_basic_password(
    guarded_ims: httpx.AsyncClient,
) -> None:
    refused = await guarded_ims.get("/")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic ")
    assert (await guarded_ims.get("/", auth=("anyone", "wrong"))).status_code == 401
    allowed = await guarded_ims.get("/", auth=("anyone", "admin-token"))
    assert allowed.status_code == 200
    token = form_field(allowed.text, "csrf")
    button = await guarded_ims.post("/__admin/ui/clock", data={"csrf": token, "seconds": "60"})
    assert button.status_code == 401
    assert button.headers["www-authenticate"].startswith("Basic ")
    button = await guarded_ims.post(
        "/__admin/ui/clock", data={"csrf": token, "seconds": "60"}, auth=("anyone", "admin-token")
    )
    assert button.status_code == 303
    # the JSON admin API keeps its Bearer challenge, and takes the token either way
    api = await guarded_ims.get("/__admin/clock")
    assert api.headers["www-authenticate"].startswith("Bearer ")
    bearer = {"Authorization": "Bearer admin-token"}
    assert round((await guarded_ims.get("/__admin/clock", headers=bearer)).json()["offset_seconds"]) == 60
    assert (await guarded_ims.get("/__admin/clock", auth=("x", "admin-token"))).status_code == 200
