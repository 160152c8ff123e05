"""The check catalogue (DESIGN.md §4). Importing this package registers every check, in run order."""

from __future__ import annotations

from conformance.checks import authorize, errors, exchange, logout, profile, refresh, state, storage
from conformance.checks.base import REGISTRY, Check, Judgement

__all__ = ["REGISTRY", "Check", "Judgement", "ordered"]

# Storage and browser checks last: they look for every token the run produced.
_LAST = ("storage.written", "storage.encrypted", "browser.no-tokens")
del authorize, errors, exchange, logout, profile, refresh, state, storage


def ordered() -> list[Check]:
    checks = [c for c in REGISTRY.values() if c.id not in _LAST]
    return checks + [REGISTRY[i] for i in _LAST]
