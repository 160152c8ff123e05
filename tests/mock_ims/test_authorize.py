"""`/ims/authorize/v2` (v1, unversioned) and the login form: every refusal, and sign-in itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_ims.config import MockConfig
from mock_ims.protocol.pkce import s256
from mock_ims.serving.app import create_app
from mock_ims.state.context import Context, Settings
from tests.conftest import BASE
from tests.helpers.clients import (
    DEFAULT_REDIRECT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
    IMPLICIT_CLIENT_ID,
    IMPLICIT_REDIRECT_URI,
    PUBLIC_CLIENT_ID,
    PUBLIC_REDIRECT_URI,
    REGISTERED_REDIRECT_URI,
    config_with_extra_clients,
)
from tests.helpers.flows import (
    REDIRECT_URI,
    VERIFIER,
    authorize_params,
    form_field,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def config() -> MockConfig:
    return config_with_extra_clients()


async def authorize(
    ims: httpx.AsyncClient, path: str = "/ims/authorize/v2", **overrides: Any
) -> httpx.Response:
    return await ims.get(path, params=authorize_params(**overrides))


async def last_entry(ctx: Context) -> dict[str, Any]:
    entries = await ctx.journal.entries()
    return entries[-1]


def assert_error_page(response: httpx.Response, message: str) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert message in response.text


# ---- the client and the redirect URI: an HTML page, never a redirect -------------------------


async def test_an_unknown_client_id_gets_an_error_page(ims: httpx.AsyncClient, ims_context: Context) -> None:
    response = await authorize(ims, client_id="no-such-client")
    assert_error_page(response, "invalid value for parameter client_id")
    entry = await last_entry(ims_context)
    assert (entry["outcome"], entry["reason"]) == ("refused", "unknown client_id")


async def test_a_missing_client_id_gets_an_error_page(ims: httpx.AsyncClient, ims_context: Context) -> None:
    response = await authorize(ims, client_id=None)
    assert_error_page(response, "missing parameter client_id")
    assert (await last_entry(ims_context))["reason"] == "client_id missing"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost.evil.example/callback",  # lookalike host: localhost as a label prefix
        "http://127.0.0.1.evil.example/callback",
        "http://evil.example/?http://localhost/callback",
        "http://evil.example/http://localhost/",
        "http://localhost@evil.example/callback",  # userinfo: the host is evil.example
        "http://localhost:8000@evil.example/callback",
        "http://user:pass@localhost:8000/callback",
        "http://localhost\\@evil.example/callback",  # backslash: read as a path by some parsers
        "http://evil.example\\@localhost/callback",
        "http://localhost:8000/callback#fragment",  # RFC 6749 §3.1.2: no fragment
        "http://localhost:8000/callback#",
        "https://LOCALHOST.evil.example/",
        "http://localhost%2eevil.example/",
        "javascript://localhost/%0aalert(1)",
        "ftp://localhost/callback",
        "//localhost/callback",
        "/callback",
        "http://localhost:99999/callback",
        "http://localhost:0/callback",
    ],
)
async def test_a_redirect_uri_matching_no_pattern_is_never_redirected_to(
    ims: httpx.AsyncClient, ims_context: Context, redirect_uri: str
) -> None:
    response = await authorize(ims, redirect_uri=redirect_uri)
    assert_error_page(response, "invalid value for parameter redirect_uri")
    assert (await last_entry(ims_context))["reason"].startswith("redirect_uri ")


async def test_a_refusal_before_the_redirect_uri_is_known_does_not_redirect_either(
    ims: httpx.AsyncClient,
) -> None:
    # an unregistered redirect_uri and a bad scope: the scope error must not go to the URI
    response = await authorize(ims, redirect_uri="https://evil.example/cb", scope="not allowed!")
    assert_error_page(response, "invalid value for parameter redirect_uri")


async def test_a_missing_redirect_uri_without_a_default_gets_an_error_page(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    response = await authorize(ims, redirect_uri=None)
    assert_error_page(response, "missing parameter redirect_uri")
    assert (await last_entry(ims_context))["reason"] == (
        "redirect_uri missing and the client has no default redirect URI"
    )


async def test_an_unregistered_redirect_uri_goes_to_the_default_redirect_uri(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(
        ims, client_id=DEFAULT_REDIRECT_CLIENT_ID, redirect_uri="https://evil.example/cb"
    )
    assert callback.location.startswith(DEFAULT_REDIRECT_URI + "?")
    assert "code" in callback.params
    authorize_entry = (await ims_context.journal.entries(None))[0]
    assert "redirect_uri_unregistered_used_default" in authorize_entry["notes"]


async def test_a_missing_redirect_uri_goes_to_the_default_redirect_uri(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(ims, client_id=DEFAULT_REDIRECT_CLIENT_ID, redirect_uri=None)
    assert callback.location.startswith(DEFAULT_REDIRECT_URI + "?")
    assert "redirect_uri_missing" in (await ims_context.journal.entries())[0]["notes"]


async def test_errors_for_an_unregistered_redirect_uri_go_to_the_default_one(ims: httpx.AsyncClient) -> None:
    response = await authorize(
        ims,
        client_id=DEFAULT_REDIRECT_CLIENT_ID,
        redirect_uri="https://evil.example/cb",
        scope="openid,write",
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(DEFAULT_REDIRECT_URI + "?")
    assert query_of(response.headers["location"])["error"] == "invalid_scope"


async def test_a_registered_redirect_uri_is_used_even_when_a_default_exists(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, client_id=DEFAULT_REDIRECT_CLIENT_ID, redirect_uri=REGISTERED_REDIRECT_URI)
    assert callback.location.startswith(REGISTERED_REDIRECT_URI + "?")


# ---- errors redirected to the client, with the state -----------------------------------------


def redirected_error(response: httpx.Response, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri)
    return query_of(location)


@pytest.mark.parametrize(
    "scope", ["openid,write_everything", "openid lr_partner_apis admin", "openid,AdobeID,additional_info"]
)
async def test_a_scope_the_client_may_not_use_is_invalid_scope_with_the_state(
    ims: httpx.AsyncClient, ims_context: Context, scope: str
) -> None:
    params = redirected_error(await authorize(ims, scope=scope))
    assert params["error"] == "invalid_scope"
    assert params["state"] == "state-123"
    assert "is not allowed for this client" in params["error_description"]
    entry = await last_entry(ims_context)
    assert (entry["outcome"], entry["error"]) == ("refused", "invalid_scope")


async def test_a_malformed_scope_is_invalid_scope(ims: httpx.AsyncClient) -> None:
    params = redirected_error(await authorize(ims, scope='openid,"quoted"'))
    assert params["error"] == "invalid_scope"
    assert "malformed scope" in params["error_description"]


async def test_scopes_may_be_comma_or_space_separated(ims: httpx.AsyncClient) -> None:
    for scope in ("openid,AdobeID", "openid AdobeID", " openid , AdobeID "):
        response = await authorize(ims, scope=scope, prompt="login")
        assert response.status_code == 200
        assert "openid, AdobeID" in response.text


async def test_deny_sends_access_denied_with_the_state(ims: httpx.AsyncClient, ims_context: Context) -> None:
    callback = await sign_in(ims, action="deny")
    assert callback.location.startswith(REDIRECT_URI + "?")
    assert callback.params["error"] == "access_denied"
    assert callback.params["state"] == "state-123"
    assert "code" not in callback.params
    assert (await last_entry(ims_context))["error"] == "access_denied"


async def test_an_unsupported_response_type_is_redirected(ims: httpx.AsyncClient) -> None:
    params = redirected_error(await authorize(ims, response_type="code token_exchange"))
    assert params["error"] == "unsupported_response_type"
    assert params["state"] == "state-123"


async def test_an_unsupported_response_mode_is_invalid_request(ims: httpx.AsyncClient) -> None:
    params = redirected_error(await authorize(ims, response_mode="form_post"))
    assert params["error"] == "invalid_request"
    assert "response_mode 'form_post'" in params["error_description"]


async def test_a_state_longer_than_4096_characters_is_invalid_request(ims: httpx.AsyncClient) -> None:
    params = redirected_error(await authorize(ims, state="s" * 4097))
    assert params["error"] == "invalid_request"
    assert "state is longer than 4096" in params["error_description"]


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"code_challenge": None}, "code_challenge_method given without code_challenge"),
        ({"code_challenge_method": "S512"}, "transform algorithm not supported"),
        ({"code_challenge": "too-short"}, "malformed code_challenge for method S256"),
        (
            {"code_challenge": "x" * 42, "code_challenge_method": "plain"},
            "malformed code_challenge for method plain",
        ),
        ({"prompt": "sometimes"}, "prompt value 'sometimes' is not supported"),
        ({"prompt": "none login"}, "prompt=none cannot be combined"),
    ],
)
async def test_malformed_pkce_and_prompt_parameters_are_invalid_request(
    ims: httpx.AsyncClient, overrides: dict[str, str | None], description: str
) -> None:
    params = redirected_error(await authorize(ims, **overrides))
    assert params["error"] == "invalid_request"
    assert description in params["error_description"]
    assert params["state"] == "state-123"


async def test_plain_pkce_is_accepted_and_journalled(ims: httpx.AsyncClient, ims_context: Context) -> None:
    response = await authorize(ims, code_challenge=VERIFIER, code_challenge_method="plain")
    assert response.status_code == 200
    assert "pkce_plain" in (await last_entry(ims_context))["notes"]


async def test_a_challenge_without_method_defaults_to_plain(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    response = await authorize(ims, code_challenge=VERIFIER, code_challenge_method=None)
    assert response.status_code == 200
    assert "pkce_plain" in (await last_entry(ims_context))["notes"]


async def test_an_omitted_or_duplicated_scope_is_journalled(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    assert (await authorize(ims, scope=None)).status_code == 200
    assert "scope_omitted" in (await last_entry(ims_context))["notes"]
    assert (await authorize(ims, scope="openid,openid,AdobeID")).status_code == 200
    assert "scope_duplicated" in (await last_entry(ims_context))["notes"]


# ---- public clients and PKCE -----------------------------------------------------------------


async def test_a_public_client_needs_pkce(ims: httpx.AsyncClient) -> None:
    response = await authorize(
        ims,
        client_id=PUBLIC_CLIENT_ID,
        redirect_uri=PUBLIC_REDIRECT_URI,
        code_challenge=None,
        code_challenge_method=None,
    )
    params = redirected_error(response, PUBLIC_REDIRECT_URI)
    assert params["error"] == "invalid_request"
    assert "code_challenge (public client)" in params["error_description"]


async def test_a_public_client_with_pkce_signs_in_and_redeems_without_a_secret(
    ims: httpx.AsyncClient,
) -> None:
    callback = await sign_in(ims, client_id=PUBLIC_CLIENT_ID, redirect_uri=PUBLIC_REDIRECT_URI)
    response = await ims.post(
        "/ims/token/v3",
        data={
            "grant_type": "authorization_code",
            "client_id": PUBLIC_CLIENT_ID,
            "code": callback.code,
            "code_verifier": VERIFIER,
            "redirect_uri": PUBLIC_REDIRECT_URI,
        },
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" in response.json()


# ---- implicit and hybrid response types ------------------------------------------------------


async def test_implicit_response_types_need_the_implicit_grant(ims: httpx.AsyncClient) -> None:
    for response_type in ("token", "id_token", "id_token token", "code id_token"):
        response = await authorize(ims, response_type=response_type)
        assert response.status_code == 302
        location = response.headers["location"]
        # RFC 6749 §4.2.2.1: implicit errors go in the fragment
        assert location.startswith(REDIRECT_URI + "#")
        params = query_of(location)
        assert params["error"] == "unauthorized_client"
        assert params["state"] == "state-123"


def implicit(**overrides: Any) -> dict[str, Any]:
    return {
        "client_id": IMPLICIT_CLIENT_ID,
        "redirect_uri": IMPLICIT_REDIRECT_URI,
        "scope": "openid,AdobeID,email",
        "code_challenge": None,
        "code_challenge_method": None,
        **overrides,
    }


@pytest.mark.parametrize(
    ("path", "expires_in"),
    [("/ims/authorize/v2", "86399"), ("/ims/authorize/v1", "86399000"), ("/ims/authorize", "86399000")],
)
async def test_response_type_token_answers_in_the_fragment(
    ims: httpx.AsyncClient, path: str, expires_in: str
) -> None:
    callback = await sign_in(ims, path=path, **implicit(response_type="token"))
    assert callback.location.startswith(IMPLICIT_REDIRECT_URI + "#")
    assert set(callback.params) == {"access_token", "token_type", "expires_in", "state"}
    assert callback.params["expires_in"] == expires_in
    userinfo = await ims.get(
        "/ims/userinfo/v2", headers={"Authorization": f"Bearer {callback.params['access_token']}"}
    )
    assert userinfo.status_code == 200


async def test_hybrid_and_id_token_response_types(ims: httpx.AsyncClient) -> None:
    expected = {
        "id_token": {"id_token", "state"},
        "id_token token": {"id_token", "access_token", "token_type", "expires_in", "state"},
        "code id_token": {"code", "id_token", "state"},
    }
    for response_type, keys in expected.items():
        callback = await sign_in(ims, **implicit(response_type=response_type, prompt="login"))
        assert callback.location.startswith(IMPLICIT_REDIRECT_URI + "#")
        assert set(callback.params) == keys, response_type


async def test_an_id_token_response_needs_a_nonce_and_openid(ims: httpx.AsyncClient) -> None:
    params = redirected_error(
        await authorize(ims, **implicit(response_type="id_token", nonce=None)), IMPLICIT_REDIRECT_URI
    )
    assert params["error"] == "invalid_request"
    assert "nonce" in params["error_description"]
    params = redirected_error(
        await authorize(ims, **implicit(response_type="id_token", scope="AdobeID")), IMPLICIT_REDIRECT_URI
    )
    assert params["error"] == "invalid_scope"
    assert "openid" in params["error_description"]


async def test_response_mode_query_is_honoured_for_implicit(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, **implicit(response_type="token", response_mode="query"))
    assert callback.location.startswith(IMPLICIT_REDIRECT_URI + "?")


# ---- sessions: SSO, prompt, login_hint -------------------------------------------------------


async def test_a_signed_in_browser_gets_a_code_at_once(ims: httpx.AsyncClient, ims_context: Context) -> None:
    await sign_in(ims)
    response = await authorize(ims)
    assert response.status_code == 302
    assert "code" in query_of(response.headers["location"])
    assert "sso_session" in (await last_entry(ims_context))["notes"]


async def test_prompt_none_without_a_session_is_login_required(ims: httpx.AsyncClient) -> None:
    params = redirected_error(await authorize(ims, prompt="none"))
    assert params["error"] == "login_required"
    assert params["state"] == "state-123"


async def test_prompt_none_with_a_session_answers_without_a_page(ims: httpx.AsyncClient) -> None:
    await sign_in(ims)
    params = redirected_error(await authorize(ims, prompt="none"))
    assert "code" in params


@pytest.mark.parametrize("prompt", ["login", "consent", "select_account"])
async def test_prompt_login_shows_the_page_despite_a_session(ims: httpx.AsyncClient, prompt: str) -> None:
    await sign_in(ims)
    response = await authorize(ims, prompt=prompt)
    assert response.status_code == 200
    assert "data-user=" in response.text


async def test_a_login_hint_for_another_user_shows_the_page(ims: httpx.AsyncClient) -> None:
    await sign_in(ims, user="alice@example.com")
    response = await authorize(ims, login_hint="bob@example.com")
    assert response.status_code == 200
    assert 'value="bob@example.com"' in response.text


async def test_auto_login_approves_without_a_page() -> None:
    ctx = Context(Settings(config_with_extra_clients(auto_login="bob@example.com")))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        response = await authorize(client)
    params = redirected_error(response)
    assert "code" in params
    entry = (await ctx.journal.entries())[-1]
    assert "auto_login" in entry["notes"]
    assert entry["user_id"].endswith("@AdobeID")


async def test_authorize_accepts_a_form_post(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/ims/authorize/v2", data=authorize_params())
    assert response.status_code == 200
    assert "data-user=" in response.text


# ---- the login form --------------------------------------------------------------------------


async def open_page(ims: httpx.AsyncClient) -> dict[str, str]:
    page = await authorize(ims, prompt="login")
    assert page.status_code == 200
    return {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}


async def test_a_wrong_password_shows_the_page_again_with_an_error(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    form = await open_page(ims)
    response = await ims.post("/ims/login", data={**form, "email": "bob@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong email or password." in response.text
    assert (await last_entry(ims_context))["reason"] == "wrong email or password"
    # the same page can then be answered with the right password
    response = await ims.post("/ims/login", data={**form, "email": "bob@example.com", "password": "bob-pass"})
    assert response.status_code == 302
    assert "code" in query_of(response.headers["location"])


async def test_the_login_form_is_single_use(ims: httpx.AsyncClient) -> None:
    form = await open_page(ims)
    assert (await ims.post("/ims/login", data={**form, "user": "alice@example.com"})).status_code == 302
    again = await ims.post("/ims/login", data={**form, "user": "alice@example.com"})
    assert_error_page(again, "expired or was already used")


async def test_the_login_form_needs_the_csrf_cookie_and_field(ims: httpx.AsyncClient) -> None:
    form = await open_page(ims)
    response = await ims.post("/ims/login", data={**form, "csrf": "x" * 32, "user": "alice@example.com"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    ims.cookies.clear()
    response = await ims.post("/ims/login", data={**form, "user": "alice@example.com"})
    assert response.status_code == 403


async def test_a_cross_site_login_post_is_refused(ims: httpx.AsyncClient) -> None:
    form = await open_page(ims)
    response = await ims.post(
        "/ims/login", data={**form, "user": "alice@example.com"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "Cross-site sign-in refused." in response.text


async def test_a_login_page_expires(ims: httpx.AsyncClient, ims_context: Context) -> None:
    form = await open_page(ims)
    await ims_context.clock.advance(1801)
    response = await ims.post("/ims/login", data={**form, "user": "alice@example.com"})
    assert_error_page(response, "expired or was already used")


async def test_an_unknown_login_request_is_an_error_page(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/ims/login", data={"rid": "nope", "csrf": "x", "user": "alice@example.com"})
    assert_error_page(response, "expired or was already used")


async def test_the_login_page_is_not_cached_framed_or_scripted(ims: httpx.AsyncClient) -> None:
    response = await authorize(ims)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "<script" not in response.text


async def test_every_authorize_version_serves_the_login_page(ims: httpx.AsyncClient) -> None:
    for path in ("/ims/authorize/v2", "/ims/authorize/v1", "/ims/authorize"):
        response = await authorize(ims, path=path)
        assert response.status_code == 200, path


async def test_the_code_carries_the_pkce_challenge_it_was_asked_with(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, code_challenge=s256("a" * 43))
    response = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "authorization_code", "code": callback.code, "code_verifier": "a" * 43},
        auth=("mock-partner-app", "mock-partner-secret"),
    )
    assert response.status_code == 200
