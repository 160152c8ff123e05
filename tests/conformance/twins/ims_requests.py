"""Twins that talk to IMS wrongly: scopes, redirect URI, PKCE, client and bearer credentials."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any
from urllib.parse import quote_plus, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from reference_client.config import Settings
from reference_client.errors import AccessTokenRejected
from reference_client.ims import IMSClient
from reference_client.state import PendingLogin
from reference_client.upstream import UpstreamUnavailable
from tests.conformance.twins.assembly import app_of, standard, with_ims
from tests.conformance.twins.registry import twin


def _with_ims(settings: Settings, kind: type[IMSClient]) -> ASGIApp:
    parts = standard(settings)
    return app_of(settings, with_ims(parts, kind(settings, parts.http, parts.clock)))


class WithoutAdobeIdScope(IMSClient):
    SCOPES = ("openid", "lr_partner_apis", "offline_access")


# Not lr_partner_apis: Lightroom refuses such a token with 403 4300, the code it also uses for an
# expired token, so the reference client would refresh on every page (refresh.no-storm) too.
@twin(
    "scope-missing",
    breaks="scope.required",
    flaw="asks for openid,lr_partner_apis,offline_access: no AdobeID",
)
def scope_missing(settings: Settings) -> ASGIApp:
    return _with_ims(settings, WithoutAdobeIdScope)


class RepeatedScope(IMSClient):
    SCOPES = ("openid", "AdobeID", "lr_partner_apis", "offline_access", "AdobeID")


@twin("scope-duplicated", breaks="scope.format", flaw="asks for AdobeID twice")
def scope_duplicated(settings: Settings) -> ASGIApp:
    return _with_ims(settings, RepeatedScope)


class NoRedirectUri(IMSClient):
    def authorize_params(self, login: PendingLogin) -> dict[str, str]:
        params = super().authorize_params(login)
        del params["redirect_uri"]  # IMS then uses the Console's default redirect URI
        return params


@twin(
    "redirect-uri-omitted",
    breaks="authorize.code-flow",
    flaw="sends no redirect_uri, relying on the default redirect URI registered at Adobe",
)
def redirect_uri_omitted(settings: Settings) -> ASGIApp:
    return _with_ims(settings, NoRedirectUri)


class RedirectUriNotRepeated(IMSClient):
    async def redeem_code(self, code: str, login: PendingLogin) -> dict[str, Any]:
        return await self._token_request(
            {"grant_type": "authorization_code", "code": code, "code_verifier": login.code_verifier}
        )


@twin(
    "redirect-uri-not-repeated",
    breaks="code.redirect-uri",
    flaw="redeems the code without repeating redirect_uri (IMS accepts it)",
)
def redirect_uri_not_repeated(settings: Settings) -> ASGIApp:
    return _with_ims(settings, RedirectUriNotRepeated)


class WithoutOfflineAccess(IMSClient):
    SCOPES = ("openid", "AdobeID", "lr_partner_apis")


@twin(
    "offline-access-absent",
    breaks=None,
    flaw="asks for no offline_access, so IMS issues no refresh token: nothing for the refresh checks to judge",
)
def offline_access_absent(settings: Settings) -> ASGIApp:
    return _with_ims(settings, WithoutOfflineAccess)


class WithoutPkce(IMSClient):
    def authorize_params(self, login: PendingLogin) -> dict[str, str]:
        params = super().authorize_params(login)
        del params["code_challenge"], params["code_challenge_method"]
        return params

    async def redeem_code(self, code: str, login: PendingLogin) -> dict[str, Any]:
        return await self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )


@twin("pkce-absent", breaks="pkce.s256", flaw="no code_challenge, no code_verifier")
def pkce_absent(settings: Settings) -> ASGIApp:
    return _with_ims(settings, WithoutPkce)


class SecretInQuery(IMSClient):
    """Client credentials in the token request's URL, as some old IMS samples did."""

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.discovery()).token_endpoint
        credentials = urlencode(
            {"client_id": self.settings.client_id, "client_secret": self.settings.client_secret}
        )
        response = await self._call(
            "POST", f"{endpoint}?{credentials}", data=form, headers={"Accept": "application/json"}
        )
        if response.status_code == 200:
            return response.json_object()
        raise self._refusal(response)


@twin(
    "secret-in-query", breaks="secret.not-in-url", flaw="sends client_id and client_secret in the token URL"
)
def secret_in_query(settings: Settings) -> ASGIApp:
    return _with_ims(settings, SecretInQuery)


# The headers of the browser request being answered, for the twin below.
_browser_headers: ContextVar[dict[str, str] | None] = ContextVar("browser_headers", default=None)
RELAYED = ("user-agent", "origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")


class RememberBrowserHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            _browser_headers.set({k: v for k, v in headers.items() if k in RELAYED})
        await self.app(scope, receive, send)


class RedeemWithBrowserHeaders(IMSClient):
    """Redeems the code as the browser would: with its User-Agent and Sec-Fetch-* headers."""

    async def redeem_code(self, code: str, login: PendingLogin) -> dict[str, Any]:
        endpoint = (await self.discovery()).token_endpoint
        response = await self._call(
            "POST",
            endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": login.code_verifier,
                "redirect_uri": self.redirect_uri,
            },
            auth=(quote_plus(self.settings.client_id), quote_plus(self.settings.client_secret)),
            headers={**(_browser_headers.get() or {}), "Accept": "application/json"},
        )
        if response.status_code == 200:
            return response.json_object()
        raise self._refusal(response)


@twin(
    "code-with-browser-headers",
    breaks="code.exchange",
    flaw="relays the browser's User-Agent and Sec-Fetch-* headers to the token endpoint",
)
def code_with_browser_headers(settings: Settings) -> ASGIApp:
    # What the suite sees of a code redeemed in the browser. A real browser redemption also
    # needs the client secret in the page (the secret-in-page twin) and CORS at IMS.
    return RememberBrowserHeaders(_with_ims(settings, RedeemWithBrowserHeaders))


class ProfileTokenInQuery(IMSClient):
    async def profile(self, access_token: str) -> dict[str, Any]:
        url = f"{self.settings.ims_base_url}{self.PROFILE_PATH}?{urlencode({'access_token': access_token})}"
        response = await self._call("GET", url, headers={"Accept": "application/json"})
        if response.status_code == 401:
            raise AccessTokenRejected("IMS", 401)  # expired: the app refreshes and tries again
        if response.status_code != 200:
            raise UpstreamUnavailable("IMS", f"the profile endpoint answered HTTP {response.status_code}")
        return response.json_object()


@twin(
    "profile-token-in-query",
    breaks="profile.bearer",
    flaw="fetches /ims/profile/v1?access_token=... instead of an Authorization header",
)
def profile_token_in_query(settings: Settings) -> ASGIApp:
    return _with_ims(settings, ProfileTokenInQuery)


class CrashOnTokenEndpointFailure(IMSClient):
    async def redeem_code(self, code: str, login: PendingLogin) -> dict[str, Any]:
        try:
            return await super().redeem_code(code, login)
        except UpstreamUnavailable as exc:
            raise RuntimeError("the token endpoint failed") from exc  # nobody catches it: a 500


@twin("token-endpoint-crash", breaks="error.token-endpoint", flaw="answers 500 when the token endpoint fails")
def token_endpoint_crash(settings: Settings) -> ASGIApp:
    return _with_ims(settings, CrashOnTokenEndpointFailure)
