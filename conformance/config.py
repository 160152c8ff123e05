"""The partner description: a TOML file saying how to reach, drive and inspect a partner app.

```toml
[partner]
base_url = "http://127.0.0.1:8000"
start_login = "/login"        # a path, or "click:<CSS selector>" on base_url
callback = "/callback"        # the redirect URI path the partner registered
after_login = "/profile"      # where the profile shows
needs_token = "/profile"      # a page that makes the partner use its access token
logout = "post:/logout"       # optional: a path (GET), "post:<path>", or "click:<selector>" on after_login
command = "python -m reference_client"                # optional: the suite starts and stops it
env = { IMS_BASE_URL = "{ims_url}", IMS_CLIENT_ID = "{client_id}" }
cwd = "."                     # where the command runs (relative to this file)
ready_path = "/"              # answered once the app is up (default: base_url itself)
ca_file = "cert.pem"          # https base_url: the app's certificate, or the CA that issued it
                              # (for mkcert: the file `mkcert -CAROOT` names), relative to this file
real_hostnames = false        # true: the app calls https://ims-na1.adobelogin.com and https://lr.adobe.io
                              # unchanged; the suite runs it behind mock-ims's intercepting proxy

[storage]                     # where the partner keeps tokens at rest (relative to cwd)
files = ["var/**"]
sqlite = ["var/tokens.db"]
redis = []
command = "sqlite3 var/app.db .dump"  # optional: a command whose output is a dump of the storage
max_files = 10000             # files read per scan (default 10000)
max_bytes = "1GiB"            # bytes read per scan, files and command output: an integer or
                              # "512MB", "1GiB", ... (default 1GiB); beyond either, what was
                              # not scanned is named and a clean scan is a WARN, not a PASS

[ims]                         # optional: use a mock that is already running
url = "http://127.0.0.1:8765"
client_id = "..."
client_secret = "..."
admin_token = "..."

[client]                      # optional: how the suite registers the partner in its own mock
client_id = "conformance-partner"
client_secret = "..."
scopes = ["openid", "AdobeID", "lr_partner_apis", "offline_access"]  # default: every IMS scope
```
Placeholders `{ims_url}`, `{client_id}`, `{client_secret}`, `{redirect_uri}`, `{lightroom_url}`,
`{base_url}`, `{port}`, `{python}` (the interpreter running the suite) and `{work_dir}` (a fresh,
empty directory for the partner's state in this run) are filled in the command, env and storage.
A base_url with port 0 gets a free port at run time (pass it on with `{port}`).
With `real_hostnames = true`, `{ims_url}` and `{lightroom_url}` are the real hosts, the partner
command also gets the proxy and CA variables (`mock_ims.tls.interception`), and the browser goes
through the same proxy.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from conformance.browser.trust import CertificateError, certificates
from conformance.storage.scan import MAX_BYTES, MAX_FILES

# What a Lightroom partner's project may ask IMS for (docs/ims-facts: identity scopes, the
# Lightroom APIs, creative_sdk). The suite's own client may use all of them, so the mock never
# refuses a scope the partner's real project could hold: a refusal would be the suite's doing.
DEFAULT_SCOPES = (
    "openid",
    "AdobeID",
    "lr_partner_apis",
    "lr_partner_rendition_apis",
    "offline_access",
    "email",
    "profile",
    "address",
    "creative_sdk",
)
# What every Lightroom partner asks for (scope.required); a registration without them would
# make the suite's mock refuse what the checks demand.
REQUIRED_SCOPES = ("openid", "AdobeID", "lr_partner_apis")
PLACEHOLDERS = (
    "ims_url",
    "client_id",
    "client_secret",
    "redirect_uri",
    "lightroom_url",
    "base_url",
    "port",
    "python",
    "work_dir",
)
_SIZE = re.compile(r"\s*(\d+)\s*([KMGT]i?B|B)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1} | {
    f"{prefix}{infix}b": base**power
    for power, prefix in enumerate("kmgt", start=1)
    for infix, base in (("", 1000), ("i", 1024))
}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")  # `{{` and `}}` are literal braces


class PartnerConfigError(ValueError):
    """The partner description is wrong; the message names the key at fault."""


@dataclass(frozen=True)
class Action:
    """How to do something in the partner's UI: go to a path, POST to it, or click a selector."""

    kind: str  # "goto", "post" or "click"
    target: str

    @classmethod
    def parse(cls, raw: str, key: str) -> Action:
        for prefix, kind in (("click:", "click"), ("post:", "post"), ("get:", "goto")):
            if raw.startswith(prefix):
                target = raw[len(prefix) :].strip()
                if not target:
                    raise PartnerConfigError(f"{key}: nothing after {prefix!r}")
                return cls(kind, target)
        if not raw.startswith("/"):
            raise PartnerConfigError(
                f"{key}: {raw!r} must be a path starting with '/', 'post:/path' or 'click:<selector>'"
            )
        return cls("goto", raw)


@dataclass(frozen=True)
class StorageConfig:
    files: tuple[str, ...] = ()
    sqlite: tuple[str, ...] = ()
    redis: tuple[str, ...] = ()
    command: str | None = None
    max_files: int = MAX_FILES
    max_bytes: int = MAX_BYTES

    @property
    def declared(self) -> bool:
        return bool(self.files or self.sqlite or self.redis or self.command)


@dataclass(frozen=True)
class ImsConfig:
    url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    admin_token: str | None = None


@dataclass(frozen=True)
class ClientRegistration:
    client_id: str = "conformance-partner"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    scopes: tuple[str, ...] = DEFAULT_SCOPES


@dataclass(frozen=True)
class PartnerConfig:
    base_url: str
    start_login: Action
    callback: str
    after_login: str
    needs_token: str
    logout: Action | None
    command: str | None
    env: dict[str, str]
    cwd: Path
    ready_path: str
    storage: StorageConfig
    ims: ImsConfig
    client: ClientRegistration
    source: Path | None = None
    real_hostnames: bool = False
    ca_file: Path | None = None  # trusted for an https base_url (conformance.browser.trust)

    @property
    def redirect_uri(self) -> str:
        return urljoin(self.base_url + "/", self.callback.lstrip("/"))

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def with_port(self, port: int) -> PartnerConfig:
        """The same partner on another port (base_url port 0 means: pick a free one)."""
        parts = urlsplit(self.base_url)
        return replace(self, base_url=f"{parts.scheme}://{parts.hostname}:{port}{parts.path}".rstrip("/"))

    @property
    def port(self) -> int:
        parts = urlsplit(self.base_url)
        if parts.port is not None:
            return parts.port
        return 443 if parts.scheme == "https" else 80

    def filled(self, values: Mapping[str, str]) -> PartnerConfig:
        """A copy with `{placeholders}` in the command, env and storage replaced."""

        def fill(text: str, key: str) -> str:
            def one(match: re.Match[str]) -> str:
                if match.group(0) in ("{{", "}}"):
                    return match.group(0)[0]
                name = match.group(1)
                if name not in values:
                    raise PartnerConfigError(
                        f"{key}: unknown placeholder {{{name}}}; known: {', '.join(PLACEHOLDERS)}"
                    )
                return values[name]

            return _PLACEHOLDER.sub(one, text)

        storage = self.storage
        return replace(
            self,
            command=fill(self.command, "partner.command") if self.command else None,
            env={k: fill(v, f"partner.env.{k}") for k, v in self.env.items()},
            storage=replace(
                storage,
                files=tuple(fill(f, "storage.files") for f in storage.files),
                sqlite=tuple(fill(f, "storage.sqlite") for f in storage.sqlite),
                redis=tuple(fill(f, "storage.redis") for f in storage.redis),
                command=fill(storage.command, "storage.command") if storage.command else None,
            ),
        )


def _table(data: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise PartnerConfigError(f"[{key}]: the table is required")
        return {}
    if not isinstance(value, Mapping):
        raise PartnerConfigError(f"{key}: must be a table")
    return value


def _known(table: Mapping[str, Any], name: str, keys: set[str]) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise PartnerConfigError(f"{name}.{unknown[0]}: unknown key (known: {', '.join(sorted(keys))})")


def _str(
    table: Mapping[str, Any], name: str, key: str, default: str | None = None, *, required: bool = False
) -> str | None:
    value = table.get(key, default)
    if value is None:
        if required:
            raise PartnerConfigError(f"{name}.{key}: is required")
        return None
    if not isinstance(value, str) or not value.strip():
        # An empty value would silently mean "the default" (or a command that never starts).
        raise PartnerConfigError(
            f"{name}.{key}: must be a non-empty string (leave the key out for the default)"
        )
    return value


def _path(table: Mapping[str, Any], name: str, key: str, default: str) -> str:
    value = _str(table, name, key, default)
    if value is None or not value.startswith("/"):
        raise PartnerConfigError(f"{name}.{key}: {value!r} must be a path starting with '/'")
    return value


def _strings(table: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PartnerConfigError(f"{name}.{key}: must be a list of strings")
    return tuple(value)


def _count(table: Mapping[str, Any], name: str, key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PartnerConfigError(f"{name}.{key}: must be a whole number of at least 1 (got {value!r})")
    return value


def _size(table: Mapping[str, Any], name: str, key: str, default: int) -> int:
    """A number of bytes: an integer, or a string such as "512MB" (10**6) or "1GiB" (2**30)."""
    value = table.get(key, default)
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match is None:
            raise PartnerConfigError(
                f"{name}.{key}: {value!r} is not a size; write bytes as an integer, or as a string "
                'such as "512MB" or "1GiB" (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)'
            )
        value = int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PartnerConfigError(f"{name}.{key}: must be a size of at least 1 byte (got {value!r})")
    return value


def parse(data: Mapping[str, Any], *, source: Path | None = None) -> PartnerConfig:
    """The partner description in `data` (a parsed TOML file at `source`), table by table."""
    _known(data, "config", {"partner", "storage", "ims", "client"})
    return _partner(
        _table(data, "partner", required=True),
        source,
        storage=_storage(_table(data, "storage")),
        ims=_ims(_table(data, "ims")),
        client=_client(_table(data, "client")),
    )


PARTNER_KEYS = {
    "base_url",
    "start_login",
    "callback",
    "after_login",
    "needs_token",
    "logout",
    "command",
    "env",
    "cwd",
    "ready_path",
    "real_hostnames",
    "ca_file",
}


def _partner(
    table: Mapping[str, Any],
    source: Path | None,
    *,
    storage: StorageConfig,
    ims: ImsConfig,
    client: ClientRegistration,
) -> PartnerConfig:
    _known(table, "partner", PARTNER_KEYS)
    base_url = (_str(table, "partner", "base_url", required=True) or "").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PartnerConfigError(
            f"partner.base_url: {base_url!r} must be an http(s) URL such as http://127.0.0.1:8000"
        )
    env = table.get("env", {})
    if not isinstance(env, Mapping) or not all(isinstance(v, str) for v in env.values()):
        raise PartnerConfigError("partner.env: must be a table of strings")
    root = source.parent if source else Path.cwd()
    cwd = root / (_str(table, "partner", "cwd", ".") or ".")
    if not cwd.is_dir():
        raise PartnerConfigError(f"partner.cwd: {cwd} is not a directory")
    logout = _str(table, "partner", "logout")
    after_login = _path(table, "partner", "after_login", "/profile")
    return PartnerConfig(
        base_url=base_url,
        start_login=Action.parse(
            _str(table, "partner", "start_login", "/login") or "/login", "partner.start_login"
        ),
        callback=_path(table, "partner", "callback", "/callback"),
        after_login=after_login,
        needs_token=_path(table, "partner", "needs_token", after_login),
        logout=Action.parse(logout, "partner.logout") if logout else None,
        command=_str(table, "partner", "command"),
        env=dict(env),
        cwd=cwd.resolve(),
        ready_path=_path(table, "partner", "ready_path", "/"),
        storage=storage,
        ims=ims,
        client=client,
        source=source,
        real_hostnames=_real_hostnames(table, ims),
        ca_file=_ca_file(table, root, https=parts.scheme == "https"),
    )


def _real_hostnames(table: Mapping[str, Any], ims: ImsConfig) -> bool:
    real_hostnames = table.get("real_hostnames", False)
    if not isinstance(real_hostnames, bool):
        raise PartnerConfigError("partner.real_hostnames: must be true or false")
    if real_hostnames and ims.url:
        raise PartnerConfigError(
            "partner.real_hostnames: needs the suite's own mock (its proxy runs in-process); remove [ims] url"
        )
    return real_hostnames


def _storage(table: Mapping[str, Any]) -> StorageConfig:
    _known(table, "storage", {"files", "sqlite", "redis", "command", "max_files", "max_bytes"})
    storage = StorageConfig(
        files=_strings(table, "storage", "files"),
        sqlite=_strings(table, "storage", "sqlite"),
        redis=_strings(table, "storage", "redis"),
        command=_str(table, "storage", "command") or None,
        max_files=_count(table, "storage", "max_files", MAX_FILES),
        max_bytes=_size(table, "storage", "max_bytes", MAX_BYTES),
    )
    for url in storage.redis:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise PartnerConfigError(f"storage.redis: {url!r} must be a redis:// URL")
    return storage


def _ims(table: Mapping[str, Any]) -> ImsConfig:
    _known(table, "ims", {"url", "client_id", "client_secret", "admin_token"})
    ims = ImsConfig(
        url=(_str(table, "ims", "url") or "").rstrip("/") or None,
        client_id=_str(table, "ims", "client_id"),
        client_secret=_str(table, "ims", "client_secret"),
        admin_token=_str(table, "ims", "admin_token"),
    )
    if ims.url and not ims.client_id:
        raise PartnerConfigError(
            "ims.client_id: is required with ims.url (the client the partner uses in that mock)"
        )
    return ims


def _client(table: Mapping[str, Any]) -> ClientRegistration:
    _known(table, "client", {"client_id", "client_secret", "scopes"})
    defaults = ClientRegistration()
    client = ClientRegistration(
        client_id=_str(table, "client", "client_id", defaults.client_id) or defaults.client_id,
        client_secret=_str(table, "client", "client_secret", defaults.client_secret)
        or defaults.client_secret,
        scopes=_strings(table, "client", "scopes") or DEFAULT_SCOPES,
    )
    lacking = [s for s in REQUIRED_SCOPES if s not in client.scopes]
    if lacking:
        raise PartnerConfigError(
            f"client.scopes: must include {', '.join(lacking)} (scope.required demands them, so a "
            "registration without them would make the suite's mock refuse what it judges); "
            "leave the key out to allow every scope"
        )
    return client


def _ca_file(partner: Mapping[str, Any], root: Path, *, https: bool) -> Path | None:
    raw = _str(partner, "partner", "ca_file")
    if raw is None:
        return None
    if not https:
        raise PartnerConfigError("partner.ca_file: only for an https base_url (the app's certificate)")
    path = (root / raw).resolve()
    try:
        certificates(path)
    except CertificateError as exc:
        raise PartnerConfigError(f"partner.ca_file: {exc}") from exc
    return path


def load(path: str | Path) -> PartnerConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise PartnerConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PartnerConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return parse(data, source=path.resolve())
    except PartnerConfigError as exc:
        raise PartnerConfigError(f"{path}: {exc}") from exc
