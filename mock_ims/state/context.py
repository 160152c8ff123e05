"""The running mock: configuration plus the services every endpoint uses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from mock_ims.config import MockConfig
from mock_ims.protocol.keys import KeySet
from mock_ims.protocol.tokens import TokenSigner
from mock_ims.state.clock import Clock
from mock_ims.state.faults import Faults
from mock_ims.state.journal import Journal
from mock_ims.state.lease import Leases
from mock_ims.state.ledger import Ledger
from mock_ims.state.registry import Registry
from mock_ims.store import Store, open_store


@dataclass(frozen=True)
class Settings:
    """How one mock is run (the CLI flags); `config` is what it knows (clients, users...)."""

    config: MockConfig
    store_url: str = "memory://"
    data_dir: Path | None = None
    allow_remote: bool = False
    admin_token: str | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)


class Context:
    def __init__(self, settings: Settings, *, keys: KeySet | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self.config = settings.config
        self.store = store or open_store(settings.store_url)
        if keys is None:
            keys = KeySet.load_or_create(settings.data_dir) if settings.data_dir else KeySet.ephemeral()
        self.keys = keys
        self.jwks = keys.jwks()
        self.signer = TokenSigner(keys, settings.config.region)
        self.clock = Clock(self.store)
        self.registry = Registry(self.store, settings.config)
        self.ledger = Ledger(self.store, self.signer, retention_ms=settings.config.retention_seconds * 1000)
        self.journal = Journal(self.store, settings.config.journal_limit)
        self.faults = Faults(self.store)
        self.leases = Leases(self.store)
        self.started = False
        self._base_urls: dict[tuple[object, ...], str] = {}

    async def startup(self) -> None:
        await self.registry.seed(replace=False)
        self.started = True

    async def ensure_started(self) -> None:
        """Seed on the first request when no lifespan ran (e.g. under httpx.ASGITransport)."""
        if not self.started:
            await self.startup()

    async def reset(self) -> None:
        """Back to the configured state: journal, tokens, sessions, faults and clock cleared.

        The lease is kept: its holder resets the mock between its steps and must not lose it.
        """
        for kind in ("tokens", "sessions", "requests", "faults"):
            await self.store.clear(kind)
        await self.store.clear_journal()
        await self.clock.reset()
        await self.registry.seed(replace=True)

    async def now_ms(self) -> int:
        return await self.clock.now_ms()

    def base_url(self, request: Request) -> str:
        """The URL clients reach this mock at: the configured issuer, else the request's own."""
        if self.config.issuer:
            return self.config.issuer
        scope = request.scope
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        key = (
            scope.get("scheme"),
            host,
            scope.get("server"),
            scope.get("app_root_path", scope.get("root_path")),
        )
        url = self._base_urls.get(key)
        if url is None:
            # Building Starlette's URL costs more than the rest of a token request's parsing.
            if len(self._base_urls) >= 256:
                self._base_urls.clear()
            url = self._base_urls[key] = str(request.base_url).rstrip("/")
        return url


def new_secret() -> str:
    """128+ bits of randomness for ids that must not be guessed (sessions, login requests)."""
    return secrets.token_urlsafe(24)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ims
    return ctx
