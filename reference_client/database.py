"""The SQLite database in DATA_DIR: sessions, pending logins, and sealed tokens.

It never holds a token in clear: the `tokens` table keeps AES-GCM ciphertexts only, and
sessions and login states are keyed by a SHA-256 of their random ids, so a copy of the file
does not hand out live sessions. Every statement is one short transaction (WAL mode); the
event loop blocks for microseconds at most.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT,
    csrf_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_states (
    state_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER
);
CREATE TABLE IF NOT EXISTS tokens (
    user_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    version INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
"""


class DatabaseError(Exception):
    """The database cannot be opened; the message names the file."""


def digest(secret: str) -> str:
    """How a random id (session, state) is kept: its SHA-256, never the id itself."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                # Create it owner-only before SQLite writes a byte.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
        return row

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
