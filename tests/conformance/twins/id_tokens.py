"""Twins that trust an ID token they should have refused: each skips one rule of OIDC Core
§3.1.3.7 and keeps every other."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.idtoken import IdTokenValidator
from tests.conformance.twins.assembly import app_of, standard
from tests.conformance.twins.registry import twin


def _with_validator(settings: Settings, kind: type[IdTokenValidator]) -> ASGIApp:
    parts = standard(settings)
    parts.id_tokens = kind(parts.ims)
    return app_of(settings, parts)


def _without(verification: str) -> type[IdTokenValidator]:
    class Skipping(IdTokenValidator):
        def decode_options(self) -> dict[str, Any]:
            # PyJWT verifies nothing else once the signature is off, unless each is asked for.
            every = {f"verify_{name}": True for name in ("signature", "aud", "iss", "exp", "iat")}
            return {**super().decode_options(), **every, f"verify_{verification}": False}

    return Skipping


class NonceIgnored(IdTokenValidator):
    def check_nonce(self, claims: dict[str, Any], nonce: str) -> None:
        pass


@twin(
    "id-token-unsigned", breaks="idtoken.signature", flaw="reads the ID token without verifying its signature"
)
def id_token_unsigned(settings: Settings) -> ASGIApp:
    return _with_validator(settings, _without("signature"))


@twin("id-token-any-audience", breaks="idtoken.audience", flaw="accepts an ID token issued to another client")
def id_token_any_audience(settings: Settings) -> ASGIApp:
    return _with_validator(settings, _without("aud"))


@twin("id-token-any-issuer", breaks="idtoken.issuer", flaw="accepts an ID token from another issuer")
def id_token_any_issuer(settings: Settings) -> ASGIApp:
    return _with_validator(settings, _without("iss"))


@twin("id-token-expired-accepted", breaks="idtoken.expiry", flaw="accepts an ID token that has expired")
def id_token_expired_accepted(settings: Settings) -> ASGIApp:
    return _with_validator(settings, _without("exp"))


@twin("id-token-nonce-ignored", breaks="idtoken.nonce", flaw="accepts an ID token whatever its nonce")
def id_token_nonce_ignored(settings: Settings) -> ASGIApp:
    return _with_validator(settings, NonceIgnored)
