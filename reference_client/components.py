"""The collaborators the app is made of, each small and replaceable.

`Components.build(settings)` wires the standard ones. A test (or the conformance suite's
deliberately broken "evil twins") passes its own instance for any of them, e.g. a state manager
that skips a check, and gets the rest wired as usual. There is no setting that turns a check
off: a weaker app has to be built in code, on purpose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from reference_client.clock import Clock, SystemClock
from reference_client.config import Settings
from reference_client.database import Database
from reference_client.idtoken import IdTokenValidator
from reference_client.ims import IMSClient
from reference_client.keyring import KeyRing, open_keys
from reference_client.lightroom import LightroomClient
from reference_client.sessions import SessionStore
from reference_client.state import StateManager
from reference_client.token_manager import TokenManager
from reference_client.token_store import TokenStore
from reference_client.vault import TokenVault
from reference_client.version import __version__

logger = logging.getLogger("reference_client")


def http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.http_timeout,
        follow_redirects=False,
        headers={"User-Agent": f"ims-reference-client/{__version__}"},
    )


@dataclass
class Components:
    settings: Settings
    clock: Clock
    http: httpx.AsyncClient
    database: Database
    keys: KeyRing
    vault: TokenVault
    token_store: TokenStore
    sessions: SessionStore
    states: StateManager
    ims: IMSClient
    lightroom: LightroomClient
    tokens: TokenManager
    id_tokens: IdTokenValidator

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        database: Database | None = None,
        keys: KeyRing | None = None,
        vault: TokenVault | None = None,
        token_store: TokenStore | None = None,
        sessions: SessionStore | None = None,
        states: StateManager | None = None,
        ims: IMSClient | None = None,
        lightroom: LightroomClient | None = None,
        tokens: TokenManager | None = None,
        id_tokens: IdTokenValidator | None = None,
    ) -> Components:
        """The standard collaborators, except those given. Ownership of `http` and `database`
        passes to the components: `aclose` closes them."""
        clock = clock or SystemClock()
        http = http or http_client(settings)
        database = database or Database(settings.database_path)
        if keys is None:
            source = open_keys(settings)
            if source.warning:
                logger.warning(source.warning)
            keys = source.ring
        vault = vault or TokenVault(keys)
        token_store = token_store or TokenStore(database, vault, clock)
        sessions = sessions or SessionStore(database, clock, secure_cookies=settings.secure_cookies)
        states = states or StateManager(database, clock)
        ims = ims or IMSClient(settings, http, clock)
        lightroom = lightroom or LightroomClient(settings, http)
        tokens = tokens or TokenManager(token_store, ims, clock)
        id_tokens = id_tokens or IdTokenValidator(ims)
        return cls(
            settings,
            clock,
            http,
            database,
            keys,
            vault,
            token_store,
            sessions,
            states,
            ims,
            lightroom,
            tokens,
            id_tokens,
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        self.database.close()
