"""Clients, users and settings: read from TOML, validated with errors that name the key."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from mock_ims.protocol.bodies import ACCOUNT_TYPES, DAY, ENTITLEMENTS, GRANT_TYPES, MAX_LIFETIME_SECONDS
from mock_ims.protocol.scopes import ScopeError, parse_scope

CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,255}")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class ClientConfig:
    """A registered OAuth client (an Adobe Developer Console credential)."""

    client_id: str
    client_secret: str | None = None  # None: a public client (SPA / native), PKCE required
    name: str = ""
    redirect_uris: tuple[str, ...] = ()  # regular expressions, full match
    default_redirect_uri: str | None = None
    scopes: tuple[str, ...] = ("openid", "AdobeID")
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    access_token_lifetime: int = DAY
    refresh_token_lifetime: int = 14 * DAY
    # IMS returns a refresh token only with `offline_access`; some API keys are set up otherwise.
    refresh_without_offline_access: bool = False

    @property
    def confidential(self) -> bool:
        return self.client_secret is not None

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "client") -> ClientConfig:
        values = _check_keys(cls, data, where)
        client_id = _required_string(values, "client_id", where)
        # It travels in URLs (/__admin/clients/<id>, X-API-Key): RFC 3986 unreserved characters only,
        # so no two spellings of one id (percent-encoded or not) can name different clients.
        if not CLIENT_ID.fullmatch(client_id):
            raise ConfigError(
                f"{where}.client_id: {client_id[:80]!r} may only hold letters, digits, '.', '_', '~' and '-' "
                "(at most 255)"
            )
        client = cls(
            client_id=client_id,
            client_secret=_string(values, "client_secret", where),
            name=_string(values, "name", where) or client_id,
            redirect_uris=_patterns(values.get("redirect_uris", ()), f"{where}.redirect_uris"),
            default_redirect_uri=_string(values, "default_redirect_uri", where),
            scopes=_scopes(values.get("scopes", cls.scopes), f"{where}.scopes"),
            grant_types=_choices(
                values.get("grant_types", cls.grant_types), GRANT_TYPES, f"{where}.grant_types"
            ),
            access_token_lifetime=_positive_int(
                values, "access_token_lifetime", where, cls.access_token_lifetime
            ),
            refresh_token_lifetime=_positive_int(
                values, "refresh_token_lifetime", where, cls.refresh_token_lifetime
            ),
            refresh_without_offline_access=_bool(
                values, "refresh_without_offline_access", where, default=False
            ),
        )
        if client.client_secret == "":
            raise ConfigError(f"{where}.client_secret: must not be empty (omit it for a public client)")
        return client


@dataclass(frozen=True)
class UserConfig:
    """A test user with the profile fields IMS and Lightroom answer with."""

    email: str
    password: str
    first_name: str = "Test"
    last_name: str = "User"
    user_id: str = ""  # derived from the email when empty: 24 hex digits + "@AdobeID"
    country_code: str = "US"
    account_type: str = "type1"
    preferred_languages: tuple[str, ...] = ("en-us",)
    entitlement: str = "subscriber"

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "user") -> UserConfig:
        values = _check_keys(cls, data, where)
        email = _required_string(values, "email", where)
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            raise ConfigError(f"{where}.email: {email!r} is not an email address")
        password = _required_string(values, "password", where)
        user_id = _string(values, "user_id", where) or derive_user_id(email)
        languages = values.get("preferred_languages", cls.preferred_languages)
        if not _is_string_list(languages):
            raise ConfigError(f"{where}.preferred_languages: must be a list of strings")
        return cls(
            email=email,
            password=password,
            first_name=_string(values, "first_name", where) or cls.first_name,
            last_name=_string(values, "last_name", where) or cls.last_name,
            user_id=user_id,
            country_code=_string(values, "country_code", where) or cls.country_code,
            account_type=_choice(values, "account_type", ACCOUNT_TYPES, where, cls.account_type),
            preferred_languages=tuple(languages),
            entitlement=_choice(values, "entitlement", ENTITLEMENTS, where, cls.entitlement),
        )


@dataclass(frozen=True)
class MockConfig:
    """Everything `mock-ims` is configured with; the store holds the run-time copies."""

    clients: tuple[ClientConfig, ...]
    users: tuple[UserConfig, ...]
    code_lifetime: int = 600  # RFC 6749 §4.1.2: a maximum of 10 minutes is recommended
    session_lifetime: int = DAY
    login_request_lifetime: int = 1800
    auto_login: str | None = None  # an email: approve every authorize request as this user
    journal_limit: int = 10_000
    # Expired codes and tokens stay this long (the conformance suite looks for expired tokens in a
    # partner's storage), then the purge drops them; sessions and login requests go at expiry.
    retention_seconds: int = 2 * DAY
    purge_interval_seconds: int = 60  # how often the running server purges what has expired
    region: str = "ue1"  # the suffix of token ids, as in `..._ue1`
    issuer: str | None = None  # fixed issuer / public base URL; default: the URL the request used
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default_client(self) -> ClientConfig:
        return self.clients[0]

    def to_dict(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in {"clients", "users", "extra"}
        }
        data["clients"] = [c.to_dict() for c in self.clients]
        data["users"] = [u.to_dict() for u in self.users]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "config") -> MockConfig:
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        raw_clients = data.get("clients", [])
        raw_users = data.get("users", [])
        if not isinstance(raw_clients, list) or not raw_clients:
            raise ConfigError(f"{where}.clients: at least one [[clients]] table is required")
        if not isinstance(raw_users, list):
            raise ConfigError(f"{where}.users: must be a list of [[users]] tables")
        clients = tuple(
            ClientConfig.from_dict(_table(c, f"clients[{i}]"), f"clients[{i}]")
            for i, c in enumerate(raw_clients)
        )
        users = tuple(
            UserConfig.from_dict(_table(u, f"users[{i}]"), f"users[{i}]") for i, u in enumerate(raw_users)
        )
        _unique([c.client_id for c in clients], "clients", "client_id")
        _unique([u.email.lower() for u in users], "users", "email")
        _unique([u.user_id for u in users], "users", "user_id")
        config = cls(
            clients=clients,
            users=users,
            code_lifetime=_positive_int(data, "code_lifetime", where, cls.code_lifetime),
            session_lifetime=_positive_int(data, "session_lifetime", where, cls.session_lifetime),
            login_request_lifetime=_positive_int(
                data, "login_request_lifetime", where, cls.login_request_lifetime
            ),
            auto_login=_string(data, "auto_login", where),
            journal_limit=_positive_int(data, "journal_limit", where, cls.journal_limit, unit="entries"),
            retention_seconds=_positive_int(data, "retention_seconds", where, cls.retention_seconds),
            purge_interval_seconds=_positive_int(
                data, "purge_interval_seconds", where, cls.purge_interval_seconds
            ),
            region=_string(data, "region", where) or cls.region,
            issuer=_string(data, "issuer", where),
        )
        if config.auto_login and config.auto_login.lower() not in {u.email.lower() for u in users}:
            raise ConfigError(f"{where}.auto_login: {config.auto_login!r} is not one of the users")
        if config.issuer and not re.fullmatch(r"https?://[^/?#\s]+", config.issuer):
            raise ConfigError(f"{where}.issuer: must be a scheme and host, like https://ims.example")
        return config

    def with_overrides(self, **changes: Any) -> MockConfig:
        return replace(self, **changes)


def derive_user_id(email: str) -> str:
    """A stable IMS-shaped user id (`<24 hex>@AdobeID`) for an email address."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest().upper()
    return f"{digest[:24]}@AdobeID"


def load_config(path: str | Path | None = None) -> MockConfig:
    """Read a TOML configuration file; the built-in default when `path` is None."""
    if path is None:
        text = resources.files("mock_ims").joinpath("default_config.toml").read_text("utf-8")
        source = "built-in configuration"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: the configuration file is not UTF-8") from exc
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    try:
        return MockConfig.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


def default_config() -> MockConfig:
    return load_config(None)


# ---- validation helpers -------------------------------------------------------------------


def _to_dict(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table")
    return value


def _check_keys(cls: type, data: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be an object")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return data


def _string(data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}.{key}: is required")
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: must be a string, not {type(value).__name__}")
    if required and not value:
        raise ConfigError(f"{where}.{key}: must not be empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ConfigError(f"{where}.{key}: must not contain control characters")
    return value


def _required_string(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _string(data, key, where, required=True)
    if value is None:  # pragma: no cover - _string raised already
        raise ConfigError(f"{where}.{key}: is required")
    return value


def _positive_int(
    data: Mapping[str, Any], key: str, where: str, default: int, *, unit: str = "seconds"
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}.{key}: must be a positive whole number of {unit}")
    if unit == "seconds" and value > MAX_LIFETIME_SECONDS:
        raise ConfigError(f"{where}.{key}: must be at most {MAX_LIFETIME_SECONDS} seconds (100 years)")
    return value


def _bool(data: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: must be true or false")
    return value


def _is_string_list(value: Any) -> bool:
    return (
        isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, str) for v in value)
    )


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if not _is_string_list(value):
        raise ConfigError(f"{where}: must be a list of regular expressions")
    for i, pattern in enumerate(value):
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise ConfigError(f"{where}[{i}]: invalid regular expression {pattern!r}: {exc}") from exc
    return tuple(value)


def _scopes(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not _is_string_list(value):
        raise ConfigError(f"{where}: must be a list of scope names")
    try:
        return parse_scope(",".join(value))
    except ScopeError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _choices(value: Any, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not _is_string_list(value):
        raise ConfigError(f"{where}: must be a list of strings")
    for item in value:
        if item not in allowed:
            raise ConfigError(f"{where}: {item!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def _choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str, default: str) -> str:
    value = _string(data, key, where) or default
    if value not in allowed:
        raise ConfigError(f"{where}.{key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _unique(values: list[str], table: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(f"{table}[{i}].{key}: {value!r} appears twice")
        seen.add(value)
