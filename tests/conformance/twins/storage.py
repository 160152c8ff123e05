"""Twins that keep tokens badly at rest: nowhere on disk, in clear in SQLite, base64 in a
file, in the log."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from reference_client import database
from reference_client.clock import Clock
from reference_client.components import Components
from reference_client.config import Settings
from reference_client.database import Database
from reference_client.token_manager import TokenManager
from reference_client.token_store import StoredTokens, TokenStore
from reference_client.tokens import TokenSet
from reference_client.vault import Sealed, TokenVault
from tests.conformance.twins.assembly import app_of, standard
from tests.conformance.twins.registry import twin


class InMemoryDatabase(Database):
    """The reference client's schema in an SQLite database that lives in memory only."""

    def __init__(self) -> None:
        self.path = Path(":memory:")
        self._db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._db.executescript(database._SCHEMA)


@twin(
    "storage-in-memory",
    breaks="storage.written",
    flaw="keeps sessions and tokens in memory only: nothing at rest to judge",
)
def storage_in_memory(settings: Settings) -> ASGIApp:
    return app_of(settings, Components.build(settings, database=InMemoryDatabase()))


class PlaintextVault(TokenVault):
    """'Sealed' tokens are the tokens."""

    def seal(self, user_id: str, tokens: TokenSet) -> Sealed:
        return Sealed(self.keys.current().id, b"", tokens.to_bytes())

    def open(self, user_id: str, sealed: Sealed) -> TokenSet:
        return TokenSet.from_bytes(sealed.ciphertext)


@twin(
    "tokens-plaintext-sqlite", breaks="storage.encrypted", flaw="stores the token JSON unencrypted in SQLite"
)
def tokens_plaintext_sqlite(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.vault = parts.token_store.vault = PlaintextVault(parts.keys)
    return app_of(settings, parts)


class Base64FileStore(TokenStore):
    """Tokens in a JSON file, each user's token set base64-encoded ('not readable at a glance')."""

    def __init__(self, path: Path, vault: TokenVault, clock: Clock, db: Database) -> None:
        super().__init__(db, vault, clock)
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(doc, indent=2), "utf-8")

    async def load(self, user_id: str) -> StoredTokens | None:
        entry = self._read().get(user_id)
        if entry is None:
            return None
        return StoredTokens(TokenSet.from_bytes(base64.b64decode(entry["tokens"])), int(entry["version"]))

    async def save(self, user_id: str, tokens: TokenSet, *, replacing: int | None = None) -> bool:
        doc = self._read()
        entry = doc.get(user_id)
        if replacing is not None and (entry is None or entry["version"] != replacing):
            return False
        version = int(entry["version"]) + 1 if entry else 1
        doc[user_id] = {"tokens": base64.b64encode(tokens.to_bytes()).decode("ascii"), "version": version}
        self._write(doc)
        return True

    async def delete(self, user_id: str) -> None:
        doc = self._read()
        if doc.pop(user_id, None) is not None:
            self._write(doc)


@twin(
    "tokens-base64-file", breaks="storage.encrypted", flaw="stores the tokens base64-encoded in a JSON file"
)
def tokens_base64_file(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    store = Base64FileStore(settings.data_dir / "sessions.json", parts.vault, parts.clock, parts.database)
    parts.token_store = parts.tokens.store = store
    return app_of(settings, parts)


logger = logging.getLogger("twin")


class LoggingTokenManager(TokenManager):
    async def start(self, user_id: str, tokens: TokenSet) -> None:
        logger.warning("user %s signed in; access token %s", user_id, tokens.access_token)
        await super().start(user_id, tokens)


@twin("tokens-in-log", breaks="storage.encrypted", flaw="writes the access token into its log")
def tokens_in_log(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    parts.tokens = LoggingTokenManager(parts.token_store, parts.ims, parts.clock)
    return app_of(settings, parts)


class GzipLog:
    """An append-only gzip log, flushed after each line (readable while the app runs)."""

    def __init__(self, path: Path) -> None:
        self._file = gzip.open(path, "ab")  # noqa: SIM115 - open for the app's lifetime
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            self._file.write(line.encode("utf-8") + b"\n")
            self._file.flush(zlib.Z_SYNC_FLUSH)


class GzipLoggingTokenManager(TokenManager):
    log: GzipLog

    async def start(self, user_id: str, tokens: TokenSet) -> None:
        self.log.write(
            json.dumps({"event": "sign-in", "user": user_id, "tokens": json.loads(tokens.to_bytes())})
        )
        await super().start(user_id, tokens)


@twin(
    "tokens-in-gzip-log",
    breaks="storage.encrypted",
    flaw="writes every token response into a gzip-compressed audit log",
)
def tokens_in_gzip_log(settings: Settings) -> ASGIApp:
    parts = standard(settings)
    manager = GzipLoggingTokenManager(parts.token_store, parts.ims, parts.clock)
    manager.log = GzipLog(settings.data_dir / "audit.log.gz")
    parts.tokens = manager
    return app_of(settings, parts)
