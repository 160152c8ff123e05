"""`StoreView`: a value built from the store (parsed clients, fault rules, the clock offset),
rebuilt only when the store's revision says something it was built from may have changed.

Reading and re-validating every client on every token request cost more than signing the
token; the revision costs one lookup, and every worker (and host) sharing the store sees a
change on its next request.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Generic, TypeVar

from mock_ims.store import Store

T = TypeVar("T")

# The revision one request was answered at, read once at its start (see `one_revision`).
_pinned: ContextVar[tuple[Store, int] | None] = ContextVar("mock_ims_pinned_revision", default=None)


@contextlib.asynccontextmanager
async def one_revision(store: Store) -> AsyncIterator[None]:
    """Inside the block, every view of `store` trusts the revision read when it was entered.

    A request then sees clients, users, faults and the clock as they were when it began, for
    one revision lookup instead of one per view (a token request consults four or five; with
    SQLite, under load, each is a read transaction).
    """
    token = _pinned.set((store, await store.revision()))
    try:
        yield
    finally:
        _pinned.reset(token)


class StoreView(Generic[T]):
    def __init__(self, store: Store, build: Callable[[], Awaitable[T]]) -> None:
        self._store = store
        self._build = build
        self._built: tuple[int, T] | None = None  # (revision, value)

    async def get(self) -> T:
        # Read the revision before building: a change made while building leaves an older
        # revision recorded, so the next call builds again rather than keep stale data.
        pinned = _pinned.get()
        if pinned is not None and pinned[0] is self._store:
            revision = pinned[1]
        else:
            revision = await self._store.revision()
        if self._built is None or self._built[0] != revision:
            self._built = (revision, await self._build())
        return self._built[1]
