"""Twins that trust an ID token they should have refused: each skips one rule of OIDC Core
§3.1.3.7 and keeps every other."""

from __future__ import annotations

import functools
from typing import Any

from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.idtoken import IdTokenValidator
from tests.conformance.twins.assembly import app_of, standard
from tests.conformance.twins.registry import twin


def _with_validator(settings: Settings, *, kind: type[IdTokenValidator]) -> ASGIApp:
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


for _name, _check, _kind, _flaw in (
    (
        "id-token-unsigned",
        "idtoken.signature",
        _without("signature"),
        "reads the ID token without verifying its signature",
    ),
    (
        "id-token-any-audience",
        "idtoken.audience",
        _without("aud"),
        "accepts an ID token issued to another client",
    ),
    ("id-token-any-issuer", "idtoken.issuer", _without("iss"), "accepts an ID token from another issuer"),
    ("id-token-expired-accepted", "idtoken.expiry", _without("exp"), "accepts an ID token that has expired"),
    ("id-token-nonce-ignored", "idtoken.nonce", NonceIgnored, "accepts an ID token whatever its nonce"),
):
    twin(_name, breaks=_check, flaw=_flaw)(functools.partial(_with_validator, kind=_kind))
