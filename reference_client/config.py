"""Settings of the reference client, read from environment variables and checked at start.

Every variable is validated before anything runs; `ConfigError` lists every problem at once,
each naming the variable at fault. Secrets are kept out of `repr`, so a logged `Settings`
never shows them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

KEY_BYTES = 32  # AES-256

DEFAULT_LIGHTROOM_BASE_URL = "https://lr.adobe.io"
DEFAULT_DATA_DIR = "var"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_HTTP_TIMEOUT = 10.0
MAX_HTTP_TIMEOUT = 120.0

# What each variable is, for `--help` and for error messages.
VARIABLES: dict[str, str] = {
    "IMS_BASE_URL": "base URL of Adobe IMS, e.g. https://ims-na1.adobelogin.com (required)",
    "IMS_CLIENT_ID": "the client id (API key) from the Adobe Developer Console (required)",
    "IMS_CLIENT_SECRET": "the client secret from the Adobe Developer Console (required)",
    "REDIRECT_URI": "this app's callback URL as registered with IMS, e.g. https://app.example/callback "
    "(default: http://HOST:PORT/callback once the port is bound)",
    "LIGHTROOM_BASE_URL": f"base URL of the Lightroom API (default: {DEFAULT_LIGHTROOM_BASE_URL})",
    "TOKEN_ENCRYPTION_KEY": "32 random bytes, base64: the key that encrypts tokens at rest",
    "TOKEN_ENCRYPTION_PREVIOUS_KEYS": "comma-separated older keys, still accepted for decryption "
    "while 'rotate-key' re-encrypts (only with TOKEN_ENCRYPTION_KEY)",
    "TOKEN_ENCRYPTION_KEY_FILE": "a file of keys, one base64 key a line, the current one first "
    "(instead of TOKEN_ENCRYPTION_KEY; default: DATA_DIR/token-encryption.keys, generated)",
    "DATA_DIR": f"where the SQLite database (and a generated key file) live (default: {DEFAULT_DATA_DIR})",
    "HOST": f"interface to listen on (default: {DEFAULT_HOST})",
    "PORT": f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    "HTTP_TIMEOUT": f"seconds any call to IMS or Lightroom may take (default: {DEFAULT_HTTP_TIMEOUT:g})",
}


class ConfigError(Exception):
    """One or more settings are missing or malformed; each problem names its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(value: str) -> str:
    """An absolute http(s) URL; plain http only on loopback (tokens must not cross a network
    in clear text; RFC 6749 §3.1.2.1, §10.9). ValueError says what is wrong."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"{value!r} uses plain http on a non-loopback host; use https")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment")
    if parts.username or parts.password:
        raise ValueError(f"{value!r} must not carry credentials")
    return value


def decode_key(text: str) -> bytes:
    """A base64 (standard or URL-safe) encoded 32-byte key; ValueError otherwise."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"decodes to {len(raw)} bytes, not {KEY_BYTES}")
    return raw


@dataclass(frozen=True)
class Settings:
    ims_base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None = None
    lightroom_base_url: str = DEFAULT_LIGHTROOM_BASE_URL
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    encryption_key: bytes | None = field(default=None, repr=False)
    previous_encryption_keys: tuple[bytes, ...] = field(default=(), repr=False)
    encryption_key_file: Path | None = None
    http_timeout: float = DEFAULT_HTTP_TIMEOUT

    @property
    def database_path(self) -> Path:
        return self.data_dir / "tokens.db"

    @property
    def default_key_file(self) -> Path:
        return self.data_dir / "token-encryption.keys"

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag whenever the app is reached over https."""
        return (self.redirect_uri or "").startswith("https://")

    def bound_to(self, url: str) -> Settings:
        """These settings once the app listens at `url`: the redirect URI defaults to its /callback."""
        if self.redirect_uri is not None:
            return self
        return replace(self, redirect_uri=f"{url.rstrip('/')}/callback")


class _Reader:
    """Reads variables one by one, collecting a problem for each bad one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def required(self, name: str, parse: Callable[[str], str] = str.strip) -> str:
        value = self.raw(name)
        if value is None:
            self.problems.append(f"{name}: missing; {VARIABLES[name]}")
            return ""
        return self.parsed(name, parse, "")

    def parsed(self, name: str, parse: Callable[[str], T], default: T) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return default


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 65535:
        raise ValueError(f"{value!r} is not a port number (0-65535)")
    return int(value)


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_HTTP_TIMEOUT:
        raise ValueError(f"{value!r} must be more than 0 and at most {MAX_HTTP_TIMEOUT:g} seconds")
    return seconds


def _key(value: str) -> bytes:
    try:
        return decode_key(value)
    except ValueError as exc:
        raise ValueError(f"{exc} (generate one with 'ims-reference-client generate-key')") from None


def _keys(value: str) -> tuple[bytes, ...]:
    keys = []
    for position, item in enumerate(value.split(","), start=1):
        try:
            keys.append(decode_key(item))
        except ValueError as exc:
            raise ValueError(f"key {position} {exc}") from None
    return tuple(keys)


def _key_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"{value} is not a file")
    return path


def _redirect_uri(value: str) -> str:
    check_url(value)
    if not urlsplit(value).path.strip("/"):
        raise ValueError(f"{value!r} needs a path (the callback route, e.g. /callback)")
    return value


def _base_url(value: str) -> str:
    return check_url(value).rstrip("/")


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from environment variables; `ConfigError` lists every problem."""
    read = _Reader(environ)
    ims_base_url = read.required("IMS_BASE_URL", _base_url)
    client_id = read.required("IMS_CLIENT_ID")
    client_secret = read.required("IMS_CLIENT_SECRET")
    redirect_uri = read.parsed("REDIRECT_URI", _redirect_uri, None)
    lightroom = read.parsed("LIGHTROOM_BASE_URL", _base_url, DEFAULT_LIGHTROOM_BASE_URL)
    data_dir = Path(read.raw("DATA_DIR") or DEFAULT_DATA_DIR)
    host = read.raw("HOST") or DEFAULT_HOST
    port = read.parsed("PORT", _port, DEFAULT_PORT)
    timeout = read.parsed("HTTP_TIMEOUT", _timeout, DEFAULT_HTTP_TIMEOUT)
    key = read.parsed("TOKEN_ENCRYPTION_KEY", _key, None)
    no_keys: tuple[bytes, ...] = ()
    previous = read.parsed("TOKEN_ENCRYPTION_PREVIOUS_KEYS", _keys, no_keys)
    key_file = read.parsed("TOKEN_ENCRYPTION_KEY_FILE", _key_file, None)
    if read.raw("TOKEN_ENCRYPTION_KEY") and read.raw("TOKEN_ENCRYPTION_KEY_FILE"):
        read.problems.append(
            "TOKEN_ENCRYPTION_KEY_FILE: set either TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEY_FILE, not both"
        )
    if read.raw("TOKEN_ENCRYPTION_PREVIOUS_KEYS") and not read.raw("TOKEN_ENCRYPTION_KEY"):
        read.problems.append(
            "TOKEN_ENCRYPTION_PREVIOUS_KEYS: only meaningful with TOKEN_ENCRYPTION_KEY "
            "(a key file lists older keys after the current one)"
        )
    if read.problems:
        raise ConfigError(read.problems)
    return Settings(
        ims_base_url=ims_base_url,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        lightroom_base_url=lightroom,
        data_dir=data_dir,
        host=host,
        port=port,
        encryption_key=key,
        previous_encryption_keys=previous,
        encryption_key_file=key_file,
        http_timeout=timeout,
    )
