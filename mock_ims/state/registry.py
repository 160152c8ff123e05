"""Clients and users as the running mock knows them: seeded from the configuration, changed
at run time through the control plane, shared by every worker through the store.

Each worker keeps them parsed and validated, and reloads them when the store's revision
changes (any worker's change shows on every worker's next request).
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_ims.config import ClientConfig, ConfigError, MockConfig, UserConfig
from mock_ims.state.cached import StoreView
from mock_ims.store import Store


@dataclass(frozen=True)
class _Users:
    by_id: dict[str, UserConfig]
    by_email: dict[str, UserConfig]  # lower-cased email


class Registry:
    def __init__(self, store: Store, config: MockConfig) -> None:
        self._store = store
        self._config = config
        self._clients = StoreView(store, self._load_clients)
        self._users = StoreView(store, self._load_users)

    async def _load_clients(self) -> dict[str, ClientConfig]:
        clients = (ClientConfig.from_dict(d) for d in await self._store.items("clients"))
        return {client.client_id: client for client in clients}

    async def _load_users(self) -> _Users:
        users = [UserConfig.from_dict(d) for d in await self._store.items("users")]
        by_email: dict[str, UserConfig] = {}
        for user in users:
            by_email.setdefault(user.email.lower(), user)  # the first, as a scan would find
        return _Users({user.user_id: user for user in users}, by_email)

    async def seed(self, *, replace: bool) -> None:
        """Load the configured clients and users; `replace` drops run-time changes first."""
        if replace:
            await self._store.clear("clients")
            await self._store.clear("users")
        for client in self._config.clients:
            await self._store.insert("clients", client.client_id, client.to_dict())
        for user in self._config.users:
            await self._store.insert("users", user.user_id, user.to_dict())

    # ---- clients ----------------------------------------------------------------------

    async def client(self, client_id: str) -> ClientConfig | None:
        return (await self._clients.get()).get(client_id)

    async def clients(self) -> list[ClientConfig]:
        return list((await self._clients.get()).values())

    async def add_client(self, client: ClientConfig) -> bool:
        return await self._store.insert("clients", client.client_id, client.to_dict())

    async def put_client(self, client: ClientConfig) -> None:
        await self._store.put("clients", client.client_id, client.to_dict())

    async def remove_client(self, client_id: str) -> bool:
        return await self._store.delete("clients", client_id)

    # ---- users ------------------------------------------------------------------------

    async def user(self, user_id: str) -> UserConfig | None:
        return (await self._users.get()).by_id.get(user_id)

    async def user_by_email(self, email: str) -> UserConfig | None:
        return (await self._users.get()).by_email.get(email.strip().lower())

    async def find_user(self, ref: str) -> UserConfig | None:
        """A user by id or by email."""
        return await self.user(ref) or await self.user_by_email(ref)

    async def users(self) -> list[UserConfig]:
        return list((await self._users.get()).by_id.values())

    async def add_user(self, user: UserConfig) -> bool:
        if await self.user_by_email(user.email):
            raise ConfigError(f"user.email: {user.email!r} already exists")
        return await self._store.insert("users", user.user_id, user.to_dict())

    async def put_user(self, user: UserConfig) -> None:
        await self._store.put("users", user.user_id, user.to_dict())

    async def remove_user(self, user_id: str) -> bool:
        return await self._store.delete("users", user_id)
