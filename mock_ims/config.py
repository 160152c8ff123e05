"""Clients, users and settings: read from TOML, validated by their models with errors that name
the key (the same models the admin API takes: `mock_ims.protocol.bodies`)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from mock_ims.protocol.bodies import DAY, BodyError, ClientRequest, Settings, UserRequest, parse

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the key."""


def _parsed(model: type[M], data: Mapping[str, Any], where: str) -> M:
    try:
        return parse(model, data, where)
    except BodyError as exc:
        raise ConfigError(str(exc)) from exc


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
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> ClientConfig:
        """A client as a [[clients]] table or an admin API body describes it."""
        request = _parsed(ClientRequest, data, where)
        return cls(
            client_id=request.client_id,
            client_secret=request.client_secret,
            name=request.name or request.client_id,
            redirect_uris=tuple(request.redirect_uris),
            default_redirect_uri=request.default_redirect_uri,
            scopes=tuple(request.scopes),
            grant_types=tuple(dict.fromkeys(request.grant_types)),
            access_token_lifetime=request.access_token_lifetime,
            refresh_token_lifetime=request.refresh_token_lifetime,
            refresh_without_offline_access=request.refresh_without_offline_access,
        )


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
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> UserConfig:
        """A user as a [[users]] table or an admin API body describes it; empty fields take
        their defaults."""
        request = _parsed(UserRequest, data, where)
        return cls(
            email=request.email,
            password=request.password,
            first_name=request.first_name or cls.first_name,
            last_name=request.last_name or cls.last_name,
            user_id=request.user_id or derive_user_id(request.email),
            country_code=request.country_code or cls.country_code,
            account_type=request.account_type or cls.account_type,
            preferred_languages=tuple(request.preferred_languages),
            entitlement=request.entitlement or cls.entitlement,
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
        settings = _parsed(Settings, data, where)
        clients = tuple(ClientConfig.from_dict(c, f"clients[{i}]") for i, c in enumerate(settings.clients))
        users = tuple(UserConfig.from_dict(u, f"users[{i}]") for i, u in enumerate(settings.users))
        _unique([c.client_id for c in clients], "clients", "client_id")
        _unique([u.email.lower() for u in users], "users", "email")
        _unique([u.user_id for u in users], "users", "user_id")
        # An empty value is as if the key were left out.
        given = {
            key: value
            for key, value in settings.model_dump(exclude={"clients", "users"}).items()
            if value not in (None, "")
        }
        if "auto_login" in given and given["auto_login"].lower() not in {u.email.lower() for u in users}:
            raise ConfigError(f"{where}.auto_login: {given['auto_login']!r} is not one of the users")
        return cls(clients=clients, users=users, **given)

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


# ---- helpers ------------------------------------------------------------------------------


def _to_dict(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def _unique(values: list[str], table: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(f"{table}[{i}].{key}: {value!r} appears twice")
        seen.add(value)
