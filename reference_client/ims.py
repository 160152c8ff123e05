"""Talking to Adobe IMS over HTTP, exactly as against the real one.

Endpoints come from discovery (`{IMS_BASE_URL}/ims/.well-known/openid-configuration`,
docs/ims-facts.md §1), except `/ims/profile/v1`, which discovery does not list. The client
authenticates with HTTP Basic (RFC 6749 §2.3.1, `client_secret_basic`) and sends parameters in
a form body, never in a URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt

from reference_client.clock import Clock
from reference_client.config import ConfigError, Settings, check_url
from reference_client.errors import AccessTokenRejected
from reference_client.state import PendingLogin
from reference_client.upstream import UpstreamResponse, UpstreamUnavailable, call

logger = logging.getLogger("reference_client.ims")

SERVICE = "IMS"


class IMSRefused(Exception):
    """IMS answered a token or revocation request with an OAuth error (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str | None, status_code: int) -> None:
        super().__init__(f"IMS refused: {error}")
        self.error = error
        self.description = description
        self.status_code = status_code


class InvalidGrant(IMSRefused):
    """RFC 6749 §5.2 invalid_grant: the code or refresh token is expired, revoked or used."""


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str | None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Discovery:
        def url(name: str, required: bool = True) -> str | None:
            value = doc.get(name)
            if value is None and not required:
                return None
            if not isinstance(value, str):
                raise UpstreamUnavailable(SERVICE, f"discovery has no {name}")
            try:
                return check_url(value)
            except ValueError as exc:
                raise UpstreamUnavailable(SERVICE, f"discovery's {name}: {exc}") from None

        issuer = doc.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise UpstreamUnavailable(SERVICE, "discovery has no issuer")
        return cls(
            issuer=issuer,
            authorization_endpoint=str(url("authorization_endpoint")),
            token_endpoint=str(url("token_endpoint")),
            jwks_uri=str(url("jwks_uri")),
            revocation_endpoint=url("revocation_endpoint", required=False),
        )


def _basic_auth(client_id: str, client_secret: str) -> tuple[str, str]:
    # RFC 6749 §2.3.1: both are form-urlencoded before they go into the Basic header.
    return quote_plus(client_id), quote_plus(client_secret)


class IMSClient:
    # Lightroom partners need openid, AdobeID and lr_partner_apis; offline_access brings the
    # refresh token (docs/ims-facts.md §3, §6). IMS samples join scopes with commas.
    SCOPES: tuple[str, ...] = ("openid", "AdobeID", "lr_partner_apis", "offline_access")
    DISCOVERY_PATH = "/ims/.well-known/openid-configuration"
    PROFILE_PATH = "/ims/profile/v1"
    DISCOVERY_TTL_MS = 3_600_000
    JWKS_REFETCH_MS = 60_000

    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Clock) -> None:
        if settings.redirect_uri is None:
            raise ConfigError(["REDIRECT_URI: not known yet; bind the server first (Settings.bound_to)"])
        self.settings = settings
        self.redirect_uri = settings.redirect_uri
        self.http = http
        self.clock = clock
        self._discovery: Discovery | None = None
        self._discovered_ms = 0
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_fetched_ms = 0

    async def _call(self, method: str, url: str, **kwargs: Any) -> UpstreamResponse:
        return await call(self.http, SERVICE, method, url, time_limit=self.settings.http_timeout, **kwargs)

    async def discovery(self) -> Discovery:
        now = self.clock.now_ms()
        if self._discovery is not None and now - self._discovered_ms < self.DISCOVERY_TTL_MS:
            return self._discovery
        try:
            response = await self._call("GET", self.settings.ims_base_url + self.DISCOVERY_PATH)
            if response.status_code != 200:
                raise UpstreamUnavailable(SERVICE, f"discovery answered HTTP {response.status_code}")
            self._discovery = Discovery.from_document(response.json_object())
        except UpstreamUnavailable:
            if self._discovery is None:
                raise
            logger.warning("IMS discovery failed; keeping the document fetched before")
        self._discovered_ms = now
        return self._discovery

    def authorize_params(self, login: PendingLogin) -> dict[str, str]:
        return {
            "client_id": self.settings.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": ",".join(self.SCOPES),
            "response_type": "code",
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": login.code_challenge,
            "code_challenge_method": "S256",  # RFC 7636 §4.2; RFC 9700 §2.1.1
        }

    async def authorize_url(self, login: PendingLogin) -> str:
        endpoint = (await self.discovery()).authorization_endpoint
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(self.authorize_params(login))}"

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.discovery()).token_endpoint
        response = await self._call(
            "POST",
            endpoint,
            data=form,
            auth=_basic_auth(self.settings.client_id, self.settings.client_secret),
            headers={"Accept": "application/json"},
        )
        if response.status_code == 200:
            return response.json_object()
        raise self._refusal(response)

    def _refusal(self, response: UpstreamResponse) -> Exception:
        """IMSRefused for an OAuth error body (4xx), UpstreamUnavailable for anything else."""
        if 400 <= response.status_code < 500:
            try:
                body = response.json_object()
            except UpstreamUnavailable:
                body = {}
            error = body.get("error")
            if isinstance(error, str) and error:
                description = body.get("error_description")
                text = description if isinstance(description, str) else None
                logger.info("IMS refused a request: HTTP %s %s", response.status_code, error)
                kind = InvalidGrant if error == "invalid_grant" else IMSRefused
                return kind(error, text, response.status_code)
        return UpstreamUnavailable(SERVICE, f"answered HTTP {response.status_code}")

    async def redeem_code(self, code: str, login: PendingLogin) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5)."""
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": login.code_verifier,
                "redirect_uri": self.redirect_uri,
            }
        )

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """RFC 6749 §6."""
        return await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, token: str, hint: str) -> None:
        """RFC 7009 §2.1; IMS answers 200 with no body."""
        discovery = await self.discovery()
        endpoint = discovery.revocation_endpoint or self.settings.ims_base_url + "/ims/revoke"
        response = await self._call(
            "POST",
            endpoint,
            data={"token": token, "token_type_hint": hint},
            auth=_basic_auth(self.settings.client_id, self.settings.client_secret),
        )
        if response.status_code != 200:
            raise self._refusal(response)

    async def profile(self, access_token: str) -> dict[str, Any]:
        """`/ims/profile/v1` with the token as a Bearer header (RFC 6750 §2.1), never in the URL."""
        response = await self._call(
            "GET",
            self.settings.ims_base_url + self.PROFILE_PATH,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        if response.status_code == 401:
            raise AccessTokenRejected(SERVICE, 401)
        if response.status_code != 200:
            raise UpstreamUnavailable(SERVICE, f"the profile endpoint answered HTTP {response.status_code}")
        return response.json_object()

    async def signing_key(self, kid: str | None) -> jwt.PyJWK:
        """The ID token key of that `kid` in the JWKS; fetched again (at most once a minute) when
        the kid is new to us, as IMS may roll its keys over."""
        now = self.clock.now_ms()
        if self._jwks is None:
            await self._fetch_jwks(now)
        key = self._find_key(kid)
        if key is None and now - self._jwks_fetched_ms >= self.JWKS_REFETCH_MS:
            await self._fetch_jwks(now)
            key = self._find_key(kid)
        if key is None:
            raise jwt.InvalidKeyError(f"no key {kid!r} in the IMS JWKS")
        return key

    def _find_key(self, kid: str | None) -> jwt.PyJWK | None:
        keys = self._jwks.keys if self._jwks is not None else []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.key_id == kid), None)

    async def _fetch_jwks(self, now: int) -> None:
        response = await self._call("GET", (await self.discovery()).jwks_uri)
        if response.status_code != 200:
            raise UpstreamUnavailable(SERVICE, f"the JWKS endpoint answered HTTP {response.status_code}")
        try:
            self._jwks = jwt.PyJWKSet.from_dict(response.json_object())
        except jwt.PyJWTError:
            raise UpstreamUnavailable(SERVICE, "published no usable signing keys") from None
        self._jwks_fetched_ms = now
