"""The check catalogue (docs/design-notes.md §4). Importing it registers every check, in run order."""

from __future__ import annotations

from conformance.checks import (
    authorize,
    errors,
    exchange,
    idtoken,
    lightroom,
    logout,
    profile,
    refresh,
    sessions,
    state,
    storage,
)
from conformance.checks.base import REGISTRY, Check, Judgement

__all__ = ["REGISTRY", "Check", "Judgement", "ordered"]

del authorize, errors, exchange, idtoken, lightroom, logout, profile, refresh, sessions, state, storage

# The order of the original design, except that the storage and browser checks come last.
FIRST = (
    "scope.required",
    "scope.format",
    "authorize.code-flow",
    "state.present",
    "state.unpredictable",
    "state.verified",
    "state.missing-rejected",
    "state.bound-to-session",
    "state.single-use",
    "code.exchange",
    "code.redirect-uri",
    "secret.not-in-url",
    "pkce.s256",
    "profile.shown",
    "profile.bearer",
    "idtoken.signature",
    "idtoken.audience",
    "idtoken.issuer",
    "idtoken.expiry",
    "idtoken.nonce",
    "error.access-denied",
    "error.token-endpoint",
    "refresh.on-expiry",
    "refresh.rotation",
    "refresh.no-storm",
    "refresh.revoked",
    "refresh.concurrent",
    "lightroom.api-key",
    "lightroom.expired",
    "logout.revokes",
    "logout.csrf",
    "session.fixation",
    "session.cookie-flags",
)
# Last: they look for every token the run produced, in everything every probe's browser saw.
LAST = (
    "storage.written",
    "storage.encrypted",
    "secret.not-in-browser",
    "browser.no-tokens",
)
ORDER = FIRST + LAST


def ordered() -> list[Check]:
    """Every registered check, in run order (a check missing from ORDER runs before storage)."""
    extra = [c for c in REGISTRY.values() if c.id not in ORDER]
    return (
        [REGISTRY[i] for i in FIRST if i in REGISTRY] + extra + [REGISTRY[i] for i in LAST if i in REGISTRY]
    )
