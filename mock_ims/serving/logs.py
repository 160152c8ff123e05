"""Logging for the running server: uvicorn's configuration, with codes, tokens and secrets
masked in the access log.

uvicorn's access log prints each request's path with its query string, and IMS clients put codes
(`/callback?code=...` is the partner's, but `/ims/validate_token/v1?token=...`,
`/ims/userinfo?access_token=...` and `/ims/token?client_secret=...` are the mock's) in query
strings. The access log masks them as the journal does: secrets become `***`, tokens the mock
signed become their ids.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from uvicorn.config import LOGGING_CONFIG

from mock_ims.state.journal import SECRET_PARAMS, TOKEN_PARAMS, mask_token


def mask_query(path: str) -> str:
    """A path with the values of secret and token parameters in its query string masked."""
    base, separator, query = path.partition("?")
    if not separator:
        return path
    masked = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in SECRET_PARAMS and value:
            value = "***"
        elif name in TOKEN_PARAMS and value:
            value = mask_token(value)
        masked.append((name, value))
    # The masks stay readable (`<access_token 1700..._ue1>`, as in the journal).
    return f"{base}?{urlencode(masked, safe='<>*, ', quote_via=quote)}"


class MaskSecrets(logging.Filter):
    """For uvicorn's access log, whose records carry (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], mask_query(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with `MaskSecrets` on the access log's handler."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_secrets"] = {"()": "mock_ims.serving.logs.MaskSecrets"}
    config["handlers"]["access"].setdefault("filters", []).append("mask_secrets")
    return config
