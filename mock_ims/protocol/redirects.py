"""Redirect URIs: syntax (RFC 6749 §3.1.2) and the client's registered patterns.

IMS matches a requested `redirect_uri` against the credential's "Redirect URI pattern", a list
of regular expressions (docs/ims-facts.md §7). The mock requires a full match, and refuses anything
that could be read two ways by different URL parsers before a pattern even sees it.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from mock_ims.config import ClientConfig

MAX_REDIRECT_URI_LENGTH = 2048


class RedirectURIError(ValueError):
    """The redirect URI is malformed; the message says how."""


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_syntax(uri: str) -> None:
    """An absolute http(s) URI without fragment, userinfo, backslashes or control characters."""
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise RedirectURIError(f"longer than {MAX_REDIRECT_URI_LENGTH} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        raise RedirectURIError("contains whitespace or control characters")
    if "\\" in uri:
        raise RedirectURIError("contains a backslash")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise RedirectURIError(f"not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise RedirectURIError("must be an absolute http or https URL")
    if not parts.hostname:
        raise RedirectURIError("has no host")
    if "@" in parts.netloc:
        raise RedirectURIError("must not contain user information (an '@' before the host)")
    if parts.fragment or "#" in uri:
        raise RedirectURIError("must not contain a fragment (RFC 6749 §3.1.2)")
    if port == 0:
        raise RedirectURIError("has port 0")


def matches(client: ClientConfig, uri: str) -> bool:
    """True when the URI is well formed and fully matches one of the client's patterns."""
    try:
        check_syntax(uri)
    except RedirectURIError:
        return False
    return any(_compiled(pattern).fullmatch(uri) for pattern in client.redirect_uris)
