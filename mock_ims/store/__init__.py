"""Stores: where the mock keeps codes, tokens, sessions, users, clients, faults and the journal."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from mock_ims.store.base import KINDS, Doc, Store, StoreError, redacted_url
from mock_ims.store.memory import MemoryStore
from mock_ims.store.sqlite import SQLiteStore

__all__ = [
    "KINDS",
    "Doc",
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "StoreError",
    "check_store",
    "open_store",
    "redacted_url",
]

REDIS_SCHEMES = ("redis", "rediss")


def open_store(url: str) -> Store:
    """Open a store from a URL: `memory://`, `sqlite:///relative/or/absolute/path.db`,
    `redis://[:password@]host:port/db[?prefix=mock-ims:]` (or `rediss://` for TLS)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStore(url)
    if scheme == "sqlite":
        # sqlite:///state.db is relative, sqlite:////tmp/state.db absolute (as in SQLAlchemy).
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreError(f"{url!r}: expected sqlite:///PATH, e.g. sqlite:///mock-ims.db")
        return SQLiteStore(path, url)
    if scheme in REDIS_SCHEMES:
        try:
            from mock_ims.store.redis import RedisStore
        except ImportError as exc:
            raise StoreError(
                f"{redacted_url(url)}: the Redis store needs the redis package: pip install 'mock-ims[redis]'"
            ) from exc
        return RedisStore(url)
    raise StoreError(f"{redacted_url(url)!r}: unknown store; use memory://, sqlite:///PATH or redis://HOST")


def check_store(url: str) -> bool:
    """Open the store once, see that it answers, close it; whether workers can share it.

    Raises StoreError with the reason when it cannot be used, before any worker starts.
    """
    store = open_store(url)

    async def check() -> None:
        try:
            await store.get("meta", "clock")
        finally:
            await store.close()

    try:
        asyncio.run(check())
    except StoreError:
        raise
    except Exception as exc:  # the client library's own error: connection refused, bad password...
        raise StoreError(f"cannot use the store {redacted_url(url)}: {exc}") from exc
    return store.shared_across_processes
