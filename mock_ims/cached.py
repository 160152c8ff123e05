"""`StoreView`: a value built from the store (parsed clients, fault rules, the clock offset),
rebuilt only when the store's revision says something it was built from may have changed.

Reading and re-validating every client on every token request cost more than signing the
token; the revision costs one lookup, and every worker (and host) sharing the store sees a
change on its next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from mock_ims.store import Store

T = TypeVar("T")


class StoreView(Generic[T]):
    def __init__(self, store: Store, build: Callable[[], Awaitable[T]]) -> None:
        self._store = store
        self._build = build
        self._built: tuple[int, T] | None = None  # (revision, value)

    async def get(self) -> T:
        # Read the revision before building: a change made while building leaves an older
        # revision recorded, so the next call builds again rather than keep stale data.
        revision = await self._store.revision()
        if self._built is None or self._built[0] != revision:
            self._built = (revision, await self._build())
        return self._built[1]
