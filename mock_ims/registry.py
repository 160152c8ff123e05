"""Clients and users as the running mock knows them: seeded from the configuration, changed
at run time through the control plane, shared by every worker through the store."""

from __future__ import annotations

from mock_ims.config import ClientConfig, ConfigError, MockConfig, UserConfig
from mock_ims.store import Store


class Registry:
    def __init__(self, store: Store, config: MockConfig) -> None:
        self._store = store
        self._config = config

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
        doc = await self._store.get("clients", client_id)
        return ClientConfig.from_dict(doc) if doc else None

    async def clients(self) -> list[ClientConfig]:
        return [ClientConfig.from_dict(d) for d in await self._store.items("clients")]

    async def add_client(self, client: ClientConfig) -> bool:
        return await self._store.insert("clients", client.client_id, client.to_dict())

    async def put_client(self, client: ClientConfig) -> None:
        await self._store.put("clients", client.client_id, client.to_dict())

    async def remove_client(self, client_id: str) -> bool:
        return await self._store.delete("clients", client_id)

    # ---- users ------------------------------------------------------------------------

    async def user(self, user_id: str) -> UserConfig | None:
        doc = await self._store.get("users", user_id)
        return UserConfig.from_dict(doc) if doc else None

    async def user_by_email(self, email: str) -> UserConfig | None:
        wanted = email.strip().lower()
        for user in await self.users():
            if user.email.lower() == wanted:
                return user
        return None

    async def find_user(self, ref: str) -> UserConfig | None:
        """A user by id or by email."""
        return await self.user(ref) or await self.user_by_email(ref)

    async def users(self) -> list[UserConfig]:
        return [UserConfig.from_dict(d) for d in await self._store.items("users")]

    async def add_user(self, user: UserConfig) -> bool:
        if await self.user_by_email(user.email):
            raise ConfigError(f"user.email: {user.email!r} already exists")
        return await self._store.insert("users", user.user_id, user.to_dict())

    async def put_user(self, user: UserConfig) -> None:
        await self._store.put("users", user.user_id, user.to_dict())

    async def remove_user(self, user_id: str) -> bool:
        return await self._store.delete("users", user_id)
