"""Signing in: the authorize request, the callback's checks, the code exchange, the ID token.

The reference client and the mock IMS run in this process; the mock's journal shows what
reached IMS, so "refused before the code is used" means: no token request carried that code.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from mock_ims.protocol.keys import ID_TOKEN_KID
from mock_ims.state.context import Context
from reference_client.errors import IdTokenRejected
from reference_client.sessions import SessionStore
from reference_client.state import STATE_LIFETIME_S
from tests.helpers.flows import CLIENT_ID
from tests.reference_client.harness import (
    APP_URL,
    MOCK_URL,
    InProcess,
    code_id,
    in_process,
    mint_code,
    presentations,
)

pytestmark = pytest.mark.anyio


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def callback_url(**params: str) -> str:
    return f"/callback?{urlencode(params)}"


def error_code(response: httpx.Response) -> str:
    marker = 'data-error-code="'
    start = response.text.index(marker) + len(marker)
    return response.text[start : response.text.index('"', start)]


async def token_requests(rc: InProcess) -> list[dict[str, Any]]:
    return await rc.journal(endpoint="token")


async def test_signing_in_shows_the_users_profile(rc: InProcess) -> None:
    callback = await rc.sign_in()
    assert callback.status_code == 303
    assert callback.headers["location"] == "/profile"
    profile = await rc.browser.get("/profile")
    assert profile.status_code == 200
    assert "<dd id=display-name>Alice Example</dd>" in profile.text
    assert "<dd id=email>alice@example.com</dd>" in profile.text


async def test_the_authorize_request_asks_for_a_code_with_state_nonce_pkce_and_the_lightroom_scopes(
    rc: InProcess,
) -> None:
    params = query(await rc.start_login())
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{APP_URL}/callback"
    assert params["scope"].split(",") == ["openid", "AdobeID", "lr_partner_apis", "offline_access"]
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    assert "client_secret" not in params


async def test_the_authorize_endpoint_comes_from_discovery(rc: InProcess) -> None:
    await rc.start_login()
    assert [e["endpoint"] for e in await rc.journal()] == ["discovery"]


async def test_each_login_gets_its_own_state(rc: InProcess) -> None:
    first, second = query(await rc.start_login()), query(await rc.start_login())
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


async def test_the_code_is_redeemed_once_from_the_backend_with_basic_auth_and_a_form_body(
    rc: InProcess,
) -> None:
    location = await rc.answer_login(await rc.start_login())
    await rc.browser.get(location)
    [exchange] = await token_requests(rc)
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["outcome"] == "ok"
    assert exchange["auth"] == "basic"
    assert set(exchange["param_sources"].values()) == {"body"}
    assert exchange["consumed"] == code_id(query(location)["code"])
    assert exchange["notes"] == []  # redirect_uri sent, PKCE S256: no leniency needed
    assert "origin" not in exchange["headers"] and "sec-fetch-site" not in exchange["headers"]


async def test_the_session_cookie_is_opaque_httponly_and_lax_and_changes_at_sign_in(rc: InProcess) -> None:
    await rc.start_login()
    before = rc.browser.cookies["rc_session"]
    callback = await rc.browser.get(await rc.answer_login(await rc.start_login()))
    set_cookie = callback.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    after = rc.browser.cookies["rc_session"]
    assert after != before
    assert len(after) >= 43
    assert "." not in after  # not a signed or encoded payload, just random


async def test_the_session_cookie_is_secure_when_the_app_is_served_over_https(rc: InProcess) -> None:
    assert not rc.settings.secure_cookies  # http://127.0.0.1 here: a Secure cookie would never come back
    rc.components.sessions = SessionStore(rc.components.database, rc.clock, secure_cookies=True)
    response = await rc.browser.get("/login")
    assert "Secure" in response.headers["set-cookie"]


async def test_a_forged_state_is_refused_and_the_attackers_code_never_redeemed(rc: InProcess) -> None:
    code, minted = await mint_code(rc.mock)
    await rc.start_login()  # the victim has a session and a pending login of their own
    response = await rc.browser.get(callback_url(code=code, state="forged-state-of-an-attacker"))
    assert response.status_code == 400
    assert error_code(response) == "invalid_state"
    assert presentations(await rc.journal(), minted) == []
    assert (await rc.browser.get("/profile")).headers["location"] == "/"


async def test_a_callback_without_state_is_refused_and_the_code_never_redeemed(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login())
    code = query(location)["code"]
    response = await rc.browser.get(callback_url(code=code))
    assert response.status_code == 400
    assert error_code(response) == "invalid_state"
    assert "no state" in response.text
    assert presentations(await rc.journal(), code_id(code)) == []


async def test_a_replayed_callback_is_refused_and_the_code_redeemed_only_once(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login())
    assert (await rc.browser.get(location)).status_code == 303
    replay = await rc.browser.get(location)
    assert replay.status_code == 400
    assert "already used" in replay.text
    assert len(presentations(await rc.journal(), code_id(query(location)["code"]))) == 1


async def test_a_state_issued_to_another_browser_is_refused_login_csrf(rc: InProcess) -> None:
    attacker = rc.new_browser()
    location = await rc.answer_login(await rc.start_login(attacker), browser=attacker, user="bob@example.com")
    await rc.start_login()  # the victim's own session
    response = await rc.browser.get(location)
    assert response.status_code == 400
    assert "another browser" in response.text
    assert presentations(await rc.journal(), code_id(query(location)["code"])) == []
    assert (await rc.browser.get("/profile")).headers["location"] == "/"


async def test_a_callback_in_a_browser_without_any_session_is_refused(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login())
    stranger = rc.new_browser()
    response = await stranger.get(location)
    assert response.status_code == 400
    assert presentations(await rc.journal(), code_id(query(location)["code"])) == []


async def test_an_expired_state_is_refused_and_the_code_never_redeemed(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login())
    rc.clock.advance(STATE_LIFETIME_S + 1)
    response = await rc.browser.get(location)
    assert response.status_code == 400
    assert "expired" in response.text
    assert presentations(await rc.journal(), code_id(query(location)["code"])) == []


async def test_access_denied_shows_a_clear_page_and_asks_for_no_token(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login(), deny=True)
    assert query(location)["error"] == "access_denied"
    response = await rc.browser.get(location)
    assert response.status_code == 403
    assert error_code(response) == "access_denied"
    assert "chose not to allow" in response.text
    assert await token_requests(rc) == []


async def test_another_authorization_error_shows_its_code_but_never_the_attacker_written_description(
    rc: InProcess,
) -> None:
    state = query(await rc.start_login())["state"]
    response = await rc.browser.get(
        callback_url(error="invalid_scope", error_description="Call +1 555 0100 to unlock", state=state)
    )
    assert response.status_code == 400
    assert error_code(response) == "authorization_error"
    assert "invalid_scope" in response.text
    assert "555" not in response.text
    weird = await rc.browser.get(callback_url(error="<script>alert(1)</script>"))
    assert "<script>" not in weird.text
    assert "error code unknown" in weird.text


async def test_a_callback_without_a_code_is_refused_after_the_state_check(rc: InProcess) -> None:
    state = query(await rc.start_login())["state"]
    response = await rc.browser.get(callback_url(state=state))
    assert response.status_code == 400
    assert error_code(response) == "authorization_error"


async def test_a_code_the_mock_refuses_gives_a_clear_page(rc: InProcess) -> None:
    location = await rc.answer_login(await rc.start_login())
    params = query(location)
    response = await rc.browser.get(callback_url(code=params["code"] + "x", state=params["state"]))
    assert response.status_code == 400
    assert error_code(response) == "token_error"
    assert "invalid_grant" in response.text


async def test_login_on_another_host_name_moves_to_the_redirect_uris_host_first(rc: InProcess) -> None:
    response = await rc.browser.get("http://localhost:8000/login")
    assert response.status_code == 302
    assert response.headers["location"] == f"{APP_URL}/login?canonical=1"


async def test_the_callback_is_served_at_the_registered_redirect_uris_path(
    ims_context: Context, tmp_path: Path
) -> None:
    rc = await in_process(ims_context, tmp_path / "data", redirect_uri=f"{APP_URL}/oauth/adobe/return")
    try:
        assert query(await rc.start_login())["redirect_uri"] == f"{APP_URL}/oauth/adobe/return"
        assert (await rc.sign_in()).headers["location"] == "/profile"
        assert (await rc.browser.get("/callback")).status_code == 404
    finally:
        await rc.aclose()


async def test_a_session_begun_before_sign_in_is_short_lived(rc: InProcess) -> None:
    response = await rc.browser.get("/login")
    assert "Max-Age=3600" in response.headers["set-cookie"]
    callback = await rc.browser.get(await rc.answer_login(await rc.start_login()))
    assert f"Max-Age={14 * 86_400}" in callback.headers["set-cookie"]


async def test_the_pages_forbid_scripts_framing_and_referrers(rc: InProcess) -> None:
    home = await rc.browser.get("/")
    assert "default-src 'none'" in home.headers["content-security-policy"]
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["referrer-policy"] == "no-referrer"
    assert home.headers["cache-control"] == "no-store"
    assert "<script" not in home.text


# --- the ID token (OIDC Core §3.1.3.7) ---------------------------------------------------------


def id_token(rc: InProcess, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": MOCK_URL,
        "sub": "someone@AdobeID",
        "aud": CLIENT_ID,
        "exp": now + 600,
        "iat": now,
        "nonce": "n-1",
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = rc.mock.keys.private[ID_TOKEN_KID]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": ID_TOKEN_KID})


async def test_a_valid_id_token_names_the_user(rc: InProcess) -> None:
    identity = await rc.components.id_tokens.validate(id_token(rc, email="a@example.com"), nonce="n-1")
    assert identity.user_id == "someone@AdobeID"
    assert identity.email == "a@example.com"


async def test_an_id_token_whose_issuer_is_the_discovered_one_plus_ims_is_accepted(rc: InProcess) -> None:
    identity = await rc.components.id_tokens.validate(id_token(rc, iss=f"{MOCK_URL}/ims"), nonce="n-1")
    assert identity.user_id == "someone@AdobeID"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"nonce": "n-2"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"aud": "another-client"}, "(?i)audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": int(time.time()) + 3600}, "not yet valid"),
        ({"sub": None}, "sub"),
        ({"aud": [CLIENT_ID, "another-client"]}, "several audiences"),
    ],
)
async def test_an_id_token_failing_a_check_is_rejected(
    rc: InProcess, changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(IdTokenRejected, match=says):
        await rc.components.id_tokens.validate(id_token(rc, **changes), nonce="n-1")


async def test_an_id_token_signed_by_another_key_is_rejected(rc: InProcess) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {
            "iss": MOCK_URL,
            "sub": "x",
            "aud": CLIENT_ID,
            "exp": int(time.time()) + 60,
            "iat": int(time.time()),
            "nonce": "n-1",
        },
        stranger,
        algorithm="RS256",
        headers={"kid": ID_TOKEN_KID},
    )
    with pytest.raises(IdTokenRejected, match="Signature"):
        await rc.components.id_tokens.validate(forged, nonce="n-1")


async def test_an_unsigned_id_token_is_rejected(rc: InProcess) -> None:
    unsigned = jwt.encode(
        {"iss": MOCK_URL, "sub": "x", "aud": CLIENT_ID, "nonce": "n-1"}, None, algorithm="none"
    )
    with pytest.raises(IdTokenRejected, match="not RS256"):
        await rc.components.id_tokens.validate(unsigned, nonce="n-1")


async def test_the_signing_keys_come_from_the_jwks_named_by_discovery(rc: InProcess) -> None:
    await rc.components.id_tokens.validate(id_token(rc), nonce="n-1")
    endpoints = [e["endpoint"] for e in await rc.journal()]
    assert endpoints == ["discovery", "keys"]
