"""Stores: where the mock keeps codes, tokens, sessions, users, clients, faults and the journal."""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_ims.store.base import KINDS, Doc, Store, StoreError
from mock_ims.store.memory import MemoryStore
from mock_ims.store.sqlite import SQLiteStore

__all__ = ["KINDS", "Doc", "MemoryStore", "SQLiteStore", "Store", "StoreError", "open_store"]


def open_store(url: str) -> Store:
    """Open a store from a URL: `memory://`, `sqlite:///relative/or/absolute/path.db`."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStore(url)
    if scheme == "sqlite":
        # sqlite:///state.db is relative, sqlite:////tmp/state.db absolute (as in SQLAlchemy).
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreError(f"{url!r}: expected sqlite:///PATH, e.g. sqlite:///mock-ims.db")
        return SQLiteStore(path, url)
    raise StoreError(f"{url!r}: unknown store; use memory:// or sqlite:///PATH")
