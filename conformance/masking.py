"""URLs shown in evidence without the codes and tokens they carry.

A callback URL holds a live authorization code; the report names it with the value masked, the
way the mock's journal does, but by the suite's own rule: a report is a file people pass around.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASKED_PARAMS = frozenset(
    {"code", "access_token", "refresh_token", "id_token", "client_secret", "code_verifier"}
)
KEPT_CHARS = 4


def mask_value(value: str) -> str:
    """The first few characters and the length: enough to tell two values apart, not to use one."""
    return f"{value[:KEPT_CHARS]}…({len(value)} chars)" if value else ""


def mask_location(location: str) -> str:
    """`location` with the values of code and token parameters masked, in query and fragment."""
    parts = urlsplit(location)

    def masked(text: str) -> str:
        if not text:
            return text
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, mask_value(v) if k in MASKED_PARAMS else v) for k, v in pairs])

    return urlunsplit((parts.scheme, parts.netloc, parts.path, masked(parts.query), masked(parts.fragment)))
