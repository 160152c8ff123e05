"""Where each user's tokens are kept: one sealed row per user in the database.

A row is replaced in a single statement, so the access token and the rotated refresh token
change together or not at all. `version` makes every update a compare-and-swap: a writer that
read an older row (another process refreshed meanwhile) learns it lost and reads again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from reference_client.clock import Clock
from reference_client.database import Database
from reference_client.tokens import TokenSet
from reference_client.vault import Sealed, TokenVault, VaultError

logger = logging.getLogger("reference_client.tokens")


@dataclass(frozen=True)
class StoredTokens:
    tokens: TokenSet
    version: int


class TokenStore:
    def __init__(self, database: Database, vault: TokenVault, clock: Clock) -> None:
        self.database = database
        self.vault = vault
        self.clock = clock

    def sealed(self, user_id: str) -> tuple[Sealed, int] | None:
        row = self.database.one(
            "SELECT key_id, nonce, ciphertext, version FROM tokens WHERE user_id=?", (user_id,)
        )
        if row is None:
            return None
        return Sealed(str(row[0]), bytes(row[1]), bytes(row[2])), int(row[3])

    async def load(self, user_id: str) -> StoredTokens | None:
        """The user's tokens; None when there are none or they cannot be opened (then the user
        is simply logged out: a tampered or foreign row is never trusted)."""
        found = self.sealed(user_id)
        if found is None:
            return None
        sealed, version = found
        try:
            tokens = self.vault.open(user_id, sealed)
        except VaultError as exc:
            logger.warning("stored tokens of a user could not be opened, treating as logged out: %s", exc)
            return None
        return StoredTokens(tokens, version)

    async def save(self, user_id: str, tokens: TokenSet, *, replacing: int | None = None) -> bool:
        """Store the tokens. `replacing` is the version read before; the write happens only if the
        row is still that version (False otherwise). None writes unconditionally (a new login)."""
        sealed = self.vault.seal(user_id, tokens)
        now = self.clock.now_ms()
        if replacing is None:
            self.database.execute(
                "INSERT INTO tokens (user_id, key_id, nonce, ciphertext, version, updated_ms) "
                "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (user_id) DO UPDATE SET key_id=excluded.key_id, "
                "nonce=excluded.nonce, ciphertext=excluded.ciphertext, version=tokens.version + 1, "
                "updated_ms=excluded.updated_ms",
                (user_id, sealed.key_id, sealed.nonce, sealed.ciphertext, now),
            )
            return True
        return self.replace_sealed(user_id, sealed, replacing, now)

    def replace_sealed(self, user_id: str, sealed: Sealed, replacing: int, now_ms: int) -> bool:
        cursor = self.database.execute(
            "UPDATE tokens SET key_id=?, nonce=?, ciphertext=?, version=version + 1, updated_ms=? "
            "WHERE user_id=? AND version=?",
            (sealed.key_id, sealed.nonce, sealed.ciphertext, now_ms, user_id, replacing),
        )
        return cursor.rowcount == 1

    async def delete(self, user_id: str) -> None:
        self.database.execute("DELETE FROM tokens WHERE user_id=?", (user_id,))

    def user_ids(self) -> list[str]:
        return [str(row[0]) for row in self.database.execute("SELECT user_id FROM tokens ORDER BY user_id")]
