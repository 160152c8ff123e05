"""The suite's own reading of a partner's scope string, apart from the mock's parser.

A bug in the mock's parser must not be invisible to the judge, so the judge reads scopes by the
rules it enforces, written here once: RFC 6749 §3.3 scope tokens (printable ASCII but space, `"`
and `\\`), separated the way IMS documents them (commas; spaces tolerated, as IMS does).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3, a comma being a separator
_SEPARATOR = re.compile(r"[, ]+")


class MalformedScope(ValueError):
    """The scope string holds something that is not a scope token; the message says what."""


def read_scopes(raw: str) -> tuple[str, ...]:
    """The scope tokens of `raw`, in order, duplicates kept (the check that counts them decides)."""
    tokens = tuple(t for t in _SEPARATOR.split(raw.strip(", ")) if t)
    for token in tokens:
        if not _TOKEN.fullmatch(token):
            raise MalformedScope(f"{token!r} is not a scope token (RFC 6749 §3.3)")
    return tokens


def lenient_scopes(raw: str) -> tuple[str, ...]:
    """The words of `raw`, whatever they hold: what the partner asked for, even when malformed."""
    return tuple(t for t in _SEPARATOR.split(raw.strip(", ")) if t)
