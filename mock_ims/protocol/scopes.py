"""Scope strings: IMS accepts comma- or space-separated lists and joins them with commas."""

from __future__ import annotations

import re

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), minus the comma IMS splits on.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+")
_SEPARATORS = re.compile(r"[ ,]+")
MAX_SCOPES = 64


class ScopeError(ValueError):
    """A scope string that is not a list of RFC 6749 §3.3 scope tokens."""


def parse_scope(raw: str) -> tuple[str, ...]:
    """Split a comma- or space-separated scope string; duplicates collapse, order is kept."""
    if len(raw) > 4096:
        raise ScopeError("the scope string is longer than 4096 characters")
    scopes: dict[str, None] = {}
    for token in _SEPARATORS.split(raw.strip(" ,")):
        if not token:
            continue
        if not _SCOPE_TOKEN.fullmatch(token):
            raise ScopeError(f"{token!r} is not a valid scope name")
        scopes[token] = None
    if len(scopes) > MAX_SCOPES:
        raise ScopeError(f"more than {MAX_SCOPES} scopes")
    return tuple(scopes)


def has_duplicates(raw: str) -> bool:
    tokens = [t for t in _SEPARATORS.split(raw.strip(" ,")) if t]
    return len(tokens) != len(set(tokens))


def format_scope(scopes: tuple[str, ...] | list[str]) -> str:
    """Scopes as IMS writes them into tokens: comma-joined."""
    return ",".join(scopes)
